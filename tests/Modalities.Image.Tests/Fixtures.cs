using System.IO.Compression;
using System.Text.Json;

namespace Modalities.Image.Tests;

/// <summary>The committed output of tools/vision/make_image_fixtures.py (PIL 9.4 + numpy, HF slow path ported).</summary>
internal static class Fixtures
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "JudgeHost.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "Modalities.Image.Tests", "Fixtures");
            }
        }

        throw new InvalidOperationException($"No JudgeHost.sln above {AppContext.BaseDirectory}.");
    });

    private static readonly Lazy<IReadOnlyList<FixtureCase>> AllCases = new(LoadManifest);

    public static string Root => RootDir.Value;

    public static IReadOnlyList<FixtureCase> Cases => AllCases.Value;

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static FixtureCase Case(string id) => Cases.Single(c => c.Id == id);

    /// <summary>Case ids for [MemberData].</summary>
    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases)
        {
            data.Add(c.Id);
        }

        return data;
    }

    private static List<FixtureCase> LoadManifest()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(PathOf("manifest.json")));
        var cases = new List<FixtureCase>();
        foreach (var e in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var grid = e.GetProperty("grid_thw").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            cases.Add(new FixtureCase(
                e.GetProperty("id").GetString()!,
                e.GetProperty("file").GetString()!,
                e.GetProperty("format").GetString()!,
                e.GetProperty("lossy").GetBoolean(),
                e.GetProperty("min_pixels").GetInt64(),
                e.GetProperty("max_pixels").GetInt64(),
                e.GetProperty("apply_exif_orientation").GetBoolean(),
                e.GetProperty("decoded_width").GetInt32(),
                e.GetProperty("decoded_height").GetInt32(),
                e.GetProperty("decoded_sha256").GetString()!,
                e.GetProperty("resized_width").GetInt32(),
                e.GetProperty("resized_height").GetInt32(),
                grid[0],
                grid[1],
                grid[2],
                e.GetProperty("rows").GetInt32(),
                e.GetProperty("expected").GetString()!));
        }

        return cases;
    }
}

internal sealed record FixtureCase(
    string Id,
    string File,
    string Format,
    bool Lossy,
    long MinPixels,
    long MaxPixels,
    bool ApplyExifOrientation,
    int DecodedWidth,
    int DecodedHeight,
    string DecodedSha256,
    int ResizedWidth,
    int ResizedHeight,
    int GridT,
    int GridH,
    int GridW,
    int Rows,
    string Expected)
{
    public string FilePath => Fixtures.PathOf(File);

    public Qwen2VLImageOptions Options => Qwen2VLImageOptions.Default with { MinPixels = MinPixels, MaxPixels = MaxPixels };

    public ImageDecoderOptions DecoderOptions => ImageDecoderOptions.Default with { ApplyExifOrientation = ApplyExifOrientation };

    public Npz LoadExpected() => Npz.Load(Fixtures.PathOf(Expected));
}

/// <summary>Reads the arrays of an .npz written by the fixture script (little-endian, C order).</summary>
internal sealed class Npz
{
    private readonly Dictionary<string, (string Dtype, int[] Shape, byte[] Data)> arrays = [];

    public IEnumerable<string> Names => arrays.Keys;

    public static Npz Load(string path)
    {
        var npz = new Npz();
        using var zip = ZipFile.OpenRead(path);
        foreach (var entry in zip.Entries)
        {
            using var s = entry.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            npz.arrays[Path.GetFileNameWithoutExtension(entry.Name)] = ParseNpy(ms.ToArray(), entry.Name);
        }

        return npz;
    }

    public bool Has(string name) => arrays.ContainsKey(name);

    public int[] Shape(string name) => arrays[name].Shape;

    public byte[] UInt8(string name) => Get(name, "|u1").ToArray();

    public float[] Float32(string name)
    {
        var bytes = Get(name, "<f4");
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    public long[] Int64(string name)
    {
        var bytes = Get(name, "<i8");
        var values = new long[bytes.Length / 8];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    private byte[] Get(string name, string dtype)
    {
        var (actual, _, data) = arrays[name];
        return actual == dtype ? data : throw new InvalidOperationException($"{name} is {actual}, not {dtype}.");
    }

    private static (string, int[], byte[]) ParseNpy(byte[] b, string name)
    {
        if (b.Length < 10 || b[0] != 0x93 || b[1] != (byte)'N')
        {
            throw new InvalidDataException($"{name} is not an .npy file.");
        }

        int headerLength = b[6] == 1 ? BitConverter.ToUInt16(b, 8) : BitConverter.ToInt32(b, 8);
        int start = b[6] == 1 ? 10 : 12;
        string header = System.Text.Encoding.ASCII.GetString(b, start, headerLength);
        string dtype = Between(header, "'descr': '", "'");
        if (!header.Contains("'fortran_order': False", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{name} is Fortran-ordered.");
        }

        int[] shape = Between(header, "'shape': (", ")")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(int.Parse).ToArray();
        return (dtype, shape, b[(start + headerLength)..]);
    }

    private static string Between(string s, string open, string close)
    {
        int i = s.IndexOf(open, StringComparison.Ordinal) + open.Length;
        return s[i..s.IndexOf(close, i, StringComparison.Ordinal)];
    }
}

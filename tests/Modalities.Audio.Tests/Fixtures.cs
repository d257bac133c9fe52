using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Modalities.Audio.Tests;

/// <summary>One recording of tools/audio/make_audio_fixtures.py and what the reference pipeline made of it.</summary>
internal sealed record AudioCase(string Id, string File, string Format, string Backend, int SampleRate, int Channels, long Frames, long Samples16k, string WaveformSha256, int ValidFrames, bool Long)
{
    public string FullPath => Fixtures.PathOf(File);

    public IReadOnlyDictionary<string, Array> Expected => Npz.Read(Fixtures.PathOf(Path.Combine("expected", Id + ".npz")));

    public override string ToString() => Id;
}

/// <summary>The committed output of tools/audio/make_audio_fixtures.py (libsndfile 1.2, libsoxr 0.1.3, torch 1.13).</summary>
internal static class Fixtures
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "JudgeHost.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "Modalities.Audio.Tests", "Fixtures");
            }
        }

        throw new InvalidOperationException($"No JudgeHost.sln above {AppContext.BaseDirectory}.");
    });

    private static readonly Lazy<IReadOnlyList<AudioCase>> AllCases = new(LoadManifest);

    public static IReadOnlyList<AudioCase> Cases => AllCases.Value;

    public static string PathOf(string relative) => Path.Combine(RootDir.Value, relative);

    public static AudioCase Case(string id) => Cases.Single(c => c.Id == id);

    public static TheoryData<string> CaseIds(Func<AudioCase, bool> filter)
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases.Where(filter))
        {
            data.Add(c.Id);
        }

        return data;
    }

    private static List<AudioCase> LoadManifest()
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(PathOf("manifest.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(e => new AudioCase(
            e.GetProperty("id").GetString()!,
            e.GetProperty("file").GetString()!,
            e.GetProperty("format").GetString()!,
            e.GetProperty("backend").GetString()!,
            e.GetProperty("sample_rate").GetInt32(),
            e.GetProperty("channels").GetInt32(),
            e.GetProperty("frames").GetInt64(),
            e.GetProperty("samples_16k").GetInt64(),
            e.GetProperty("waveform_sha256").GetString()!,
            e.GetProperty("valid_frames").GetInt32(),
            e.GetProperty("long").GetBoolean())).ToList();
    }
}

/// <summary>Reads the little-endian float32 / int64 arrays of an .npz written by the fixture script.</summary>
internal static class Npz
{
    public static IReadOnlyDictionary<string, Array> Read(string path)
    {
        var result = new Dictionary<string, Array>();
        using var zip = ZipFile.OpenRead(path);
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            result[Path.GetFileNameWithoutExtension(entry.Name)] = Parse(memory.ToArray(), entry.Name);
        }

        return result;
    }

    /// <summary>Shape of an array as the .npy header gives it (arrays here are flattened row-major).</summary>
    public static int[] Shape(string path, string name)
    {
        using var zip = ZipFile.OpenRead(path);
        using var stream = zip.GetEntry(name + ".npy")!.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return Header(memory.ToArray(), out _, out _);
    }

    private static Array Parse(byte[] bytes, string name)
    {
        int[] shape = Header(bytes, out string descr, out int offset);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var data = bytes.AsSpan(offset);
        return descr switch
        {
            "<f4" => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data)[..(int)count].ToArray(),
            "<i8" => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(data)[..(int)count].ToArray(),
            _ => throw new InvalidOperationException($"{name}: dtype {descr} is not read here."),
        };
    }

    private static int[] Header(byte[] bytes, out string descr, out int offset)
    {
        // magic "\x93NUMPY", major, minor, then the header length (uint16 in version 1, uint32 after)
        int headerLength = bytes[6] == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = bytes[6] == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(bytes, start, headerLength);
        offset = start + headerLength;
        descr = Between(header, "'descr': '", "'");
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("Fortran-order arrays are not read here.");
        }

        string shape = Between(header, "'shape': (", ")");
        return shape.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
    }

    private static string Between(string text, string start, string end)
    {
        int i = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        return text[i..text.IndexOf(end, i, StringComparison.Ordinal)];
    }
}

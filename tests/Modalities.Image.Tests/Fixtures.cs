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

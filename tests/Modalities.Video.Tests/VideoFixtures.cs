using System.Text.Json;
using JudgeHost.Abstractions;

namespace Modalities.Video.Tests;

/// <summary>The committed output of tools/video/make_video_fixtures.py (ffmpeg 5.1, torch 1.13, torchvision 0.14).</summary>
internal static class VideoFixtures
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "JudgeHost.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No JudgeHost.sln above {AppContext.BaseDirectory}.");
    });

    private static readonly Lazy<JsonElement> ManifestJson = new(() =>
        JsonDocument.Parse(File.ReadAllText(PathOf("manifest.json"))).RootElement.Clone());

    public static string RepoRoot => RootDir.Value;

    public static string Root => Path.Combine(RepoRoot, "tests", "Modalities.Video.Tests", "Fixtures");

    public static string TinyVlCheckpoint => Path.Combine(RepoRoot, "tests", "JudgeHost.Tests", "Fixtures", "parity", "qwen25vl-tiny");

    public static JsonElement Manifest => ManifestJson.Value;

    /// <summary>The tiny checkpoint's language hidden size (the vision merger's output).</summary>
    public static long HiddenSize => JudgeHost.Backbone.DecoderConfig.Load(TinyVlCheckpoint).HiddenSize;

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static string Video(string name) => PathOf(Path.Combine("videos", name));

    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Manifest.GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("id").GetString()!);
        }

        return data;
    }

    public static JsonElement Case(string id) =>
        Manifest.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);

    /// <summary>The case's file as a media item with its request attributes.</summary>
    public static MediaItem Item(JsonElement c)
    {
        var attributes = c.GetProperty("attributes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        return MediaItem.FromFile("video", Video(c.GetProperty("file").GetString()!)) with { Attributes = attributes };
    }
}

using System.Text.Json;
using JudgeHost.Backbone;
using JudgeHost.Tests.Plugins;

namespace JudgeHost.Tests.Cli;

/// <summary>`judge` with media: a plugin's embeddings are spliced into the backbone's input through the contract.</summary>
[Collection(TorchCollection.Name)]
public sealed class MediaJudgeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Judge_MediaThroughAPlugin_IsSplicedIn_AndARejectedItemFailsOnlyItsRequest()
    {
        string model = _dir.Combine("tiny");
        TinyCheckpoint.WriteWithTokenizer(model, "qwen2", new TinyCheckpoint.Shape(Hidden: 32, Intermediate: 64, Heads: 2, KvHeads: 1), Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), seed: 5);
        using var plugins = new PluginFolder().With("FakeModality");
        string input = _dir.Combine("media.jsonl");
        await File.WriteAllLinesAsync(input,
        [
            """{"id":"m1","task":"binary","instruction":"Is this natural?","aspect":"naturalness","media":[{"modality":"fake","value":"abcd"}]}""",
            """{"id":"m2","task":"binary","instruction":"Is this natural?","aspect":"naturalness","media":[{"modality":"fake","value":""}]}""",
            """{"id":"t1","task":"binary","instruction":"Is this natural?","aspect":"naturalness"}""",
        ]);
        string output = _dir.Combine("media-results.jsonl");

        var result = await CliRunner.RunAsync("judge", "--plugins-dir", plugins.Path, "--model", model, "--input", input, "--output", output, "--max-new-tokens", "6", "--dtype", "float32");

        Assert.Equal(2, result.ExitCode);
        var records = (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal("unparsed", records[0].GetProperty("status").GetString());   // random weights: honest unparsed
        Assert.Equal("error", records[1].GetProperty("status").GetString());
        Assert.Contains("fake '' is empty", records[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("unparsed", records[2].GetProperty("status").GetString());
        // The media prompt holds the 4 embedding rows of "abcd" where the text prompt has nothing (the marker's
        // "\n\n" frame tokenizes into one or two tokens).
        int withMedia = records[0].GetProperty("prompt_tokens").GetInt32();
        int textOnly = records[2].GetProperty("prompt_tokens").GetInt32();
        Assert.InRange(withMedia - textOnly, 4, 6);
    }
}

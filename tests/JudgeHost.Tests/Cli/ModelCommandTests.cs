using System.Text.Json;
using JudgeHost.Backbone;

namespace JudgeHost.Tests.Cli;

/// <summary>The inspection and generation verbs, and an end-to-end `judge` run through the real backbone.</summary>
[Collection(TorchCollection.Name)]
public sealed class ModelCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Parity(string name) => Path.Combine(RepoPaths.Fixtures, "parity", name);

    private string TinyJudge()
    {
        string path = _dir.Combine("tiny-judge");
        if (!Directory.Exists(path))
        {
            TinyCheckpoint.WriteWithTokenizer(path, "qwen2", new TinyCheckpoint.Shape(Hidden: 32, Intermediate: 64, Heads: 2, KvHeads: 1), Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), seed: 11);
        }

        return path;
    }

    [Fact]
    public async Task InspectLogits_WritesEveryPositionMatchingTheReference()
    {
        string outFile = _dir.Combine("logits.safetensors");
        using var reference = SafeTensorsFile.Open(Path.Combine(Parity("llama31-tiny"), "reference.safetensors"));
        using var ids = reference.Load("input_ids");
        using var expected = reference.Load("logits");

        var result = await CliRunner.RunAsync("inspect", "logits", "--model", Parity("llama31-tiny"), "--ids", string.Join(",", ids.data<long>().ToArray()), "--out", outFile);

        Assert.True(result.ExitCode == 0, result.Error);
        using var file = SafeTensorsFile.Open(outFile);
        using var logits = file.Load("logits");
        Assert.Equal([24L, 256L], logits.shape);
        Assert.True(logits.allclose(expected, rtol: 0, atol: 1e-4));
    }

    [Fact]
    public async Task Generate_Ids_PrintsTheReferenceGreedyContinuation()
    {
        using var reference = SafeTensorsFile.Open(Path.Combine(Parity("qwen2-tiny"), "reference.safetensors"));
        using var ids = reference.Load("input_ids");
        using var greedy = reference.Load("greedy_ids");

        var result = await CliRunner.RunAsync("generate", "--model", Parity("qwen2-tiny"), "--ids", string.Join(",", ids.data<long>().ToArray()),
            "--max-new-tokens", "64", "--temperature", "0", "--dtype", "float32", "--ignore-eos");

        Assert.True(result.ExitCode == 0, result.Error);
        using var doc = JsonDocument.Parse(result.Output);
        Assert.Equal(greedy.data<long>().ToArray(), doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray());
    }

    [Theory]
    [InlineData("--ids", "1,x,3", "is not a comma-separated list")]   // malformed ids
    [InlineData("--ids", "1,999999", "outside the vocabulary")]       // id beyond the vocabulary
    public async Task Generate_BadIds_IsUserError(string option, string value, string expected)
    {
        var result = await CliRunner.RunAsync("generate", "--model", Parity("qwen2-tiny"), option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_PromptWithoutTokenizer_SaysWhatIsMissing()
    {
        var result = await CliRunner.RunAsync("generate", "--model", Parity("qwen2-tiny"), "--prompt", "hi");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("has no tokenizer.json", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokenize_PrintsIds()
    {
        var result = await CliRunner.RunAsync("inspect", "tokenize", "--model", Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), "--text", "Hello 世界<|im_end|>");

        Assert.True(result.ExitCode == 0, result.Error);
        using var doc = JsonDocument.Parse(result.Output);
        Assert.Equal(151645, doc.RootElement.GetProperty("ids").EnumerateArray().Last().GetInt32());
    }

    [Fact]
    public async Task Load_TruncatedWeights_IsUserErrorNamingTheFile()
    {
        string model = _dir.Combine("truncated");
        PluginsTestCopy(Parity("qwen2-tiny"), model);
        string weights = Path.Combine(model, "model.safetensors");
        byte[] bytes = await File.ReadAllBytesAsync(weights);
        await File.WriteAllBytesAsync(weights, bytes[..(bytes.Length / 2)]);

        var result = await CliRunner.RunAsync("generate", "--model", model, "--ids", "1,2");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("model.safetensors", result.Error, StringComparison.Ordinal);
        Assert.Contains("truncated", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Judge_TinyRandomModel_EveryRequestGetsARecord_AndBadLinesAreErrors()
    {
        string input = _dir.Combine("requests.jsonl");
        await File.WriteAllLinesAsync(input,
        [
            """{"id":"p1","task":"pairwise","instruction":"Capital of France?","candidates":["Paris","Lyon"],"label":"A"}""",
            """{"id":"s1","task":"pointwise","instruction":"2+2?","candidates":["4"]}""",
            """{"id":"bad-json","task":"pairwise",""",
            """{"id":"r1","task":"ranking","instruction":"Order","candidates":["a","b","c"]}""",
            """{"id":"img","task":"binary","instruction":"Natural?","aspect":"naturalness","media":[{"modality":"image","path":"cat.png"}]}""",
            """{"id":"y1","task":"binary","instruction":"Safe?","aspect":"safety","candidates":["hello"]}""",
        ]);
        string output = _dir.Combine("results.jsonl");

        var result = await CliRunner.RunAsync("judge", "--model", TinyJudge(), "--input", input, "--output", output, "--max-new-tokens", "12", "--dtype", "float32");

        // Random weights cannot follow the protocol: their verdicts must be reported as unparsed, not invented.
        Assert.Equal(2, result.ExitCode);
        var records = (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["p1", "s1", "line:3", "r1", "img", "y1"], records.Select(r => r.GetProperty("id").GetString()));
        string Status(int i) => records[i].GetProperty("status").GetString()!;
        Assert.Equal(["unparsed", "unparsed", "error", "unparsed", "error", "unparsed"], Enumerable.Range(0, 6).Select(Status));
        Assert.Equal(2, records[0].GetProperty("samples").GetArrayLength());   // both orders
        Assert.True(records[0].GetProperty("prompt_tokens").GetInt32() > 100);  // system prompt + question + two candidates, twice
        Assert.Equal(24, records[0].GetProperty("generated_tokens").GetInt32());   // 12 per order, cut at the limit
        Assert.Contains("cannot take image input", records[4].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("A", records[0].GetProperty("label").GetString());
        Assert.Contains("judged 6 requests: 0 ok, 4 unparsed, 2 errors", result.Error, StringComparison.Ordinal);
    }

    private static void PluginsTestCopy(string source, string target) => Plugins.PluginFolder.CopyDirectory(source, target);
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace JudgeHost.Tests.Cli;

/// <summary>
/// Judging audio end to end on a tiny random Qwen2.5-Omni thinker (tools make-tiny) with the in-repo audio plugin:
/// the example speech-quality benchmark (examples/audio-requests.jsonl, made by tools/audio/make_mos_examples.py)
/// through <c>judge</c> and <c>eval</c> for every task, and broken audio failing only its own request.
/// The random model cannot follow the protocol, so its verdicts are honestly unparsed; the test checks the flow,
/// the counts and the audio tokens in every prompt (SpeechMosTests checks the metrics on parsed verdicts).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class AudioJudgeTests() : TinyVisionCliTests("Modalities.Audio")
{
    private static readonly string AudioFixtures = Path.Combine(RepoPaths.Root, "tests", "Modalities.Audio.Tests", "Fixtures");

    [Fact]
    public async Task JudgeAndEval_ExampleSpeechBenchmark_EveryTaskRunsWithItsAudio()
    {
        // The example file's paths are relative to the repository root.
        string input = Dir.Combine("audio-requests.jsonl");
        var lines = (await File.ReadAllLinesAsync(Path.Combine(RepoPaths.Root, "examples", "audio-requests.jsonl"))).Select(l =>
        {
            var node = JsonNode.Parse(l)!.AsObject();
            foreach (var item in node["media"]!.AsArray())
            {
                item!["path"] = Path.Combine(RepoPaths.Root, item["path"]!.GetValue<string>());
            }

            return node.ToJsonString();
        });
        await File.WriteAllLinesAsync(input, lines);
        string output = Dir.Combine("results.jsonl");

        var judge = await CliRunner.RunAsync("judge", "--plugins-dir", Plugins.Path, "--model", TinyOmni(), "--input", input, "--output", output, "--max-new-tokens", "4", "--dtype", "float32");
        var eval = await CliRunner.RunAsync("eval", "--input", output, "--report", Dir.Combine("report.md"));

        Assert.True(judge.ExitCode == 0, judge.Error);
        var records = (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(9, records.Count);
        Assert.All(records, r => Assert.Equal("unparsed", r.GetProperty("status").GetString()));
        var tokens = records.ToDictionary(r => r.GetProperty("id").GetString()!, r => r.GetProperty("prompt_tokens").GetInt32());
        // 1.98-s clips: 198 mel frames -> 49 audio tokens each, framed by <|audio_bos|> / <|audio_eos|>. The MOS
        // prompts differ only in the clip; the pair carries two clips and the ranking three.
        Assert.Single(tokens.Where(t => t.Key.StartsWith("mos-", StringComparison.Ordinal)).Select(t => t.Value).Distinct());
        Assert.True(tokens["mos-clean"] > 51);
        Assert.True(tokens["pair-clean-vs-noisy"] > 2 * 51);
        Assert.True(tokens["rank-three"] > 3 * 51);
        Assert.True(eval.ExitCode == 0, eval.Error);
        // Utterance-level LCC / SRCC (Pearson / Spearman): nothing parsed, so no number is made up.
        Assert.Contains("| pointwise | 6 | 6 | 0 | pearson n/a, spearman n/a, mse n/a, parse_failure_rate 1 |", eval.Output, StringComparison.Ordinal);
        Assert.Contains("| pairwise | 1 | 1 | 0 |", eval.Output, StringComparison.Ordinal);
        Assert.Contains("| ranking | 1 | 1 | 0 |", eval.Output, StringComparison.Ordinal);
        Assert.Contains("| binary | 1 | 1 | 0 |", eval.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Judge_BrokenAudio_FailsOnlyItsRequestNamingTheFile_ExitCode2()
    {
        string clean = Path.Combine(AudioFixtures, "audio", "speech_22050_s16.wav");
        string config = Dir.Combine("settings.json");
        await File.WriteAllTextAsync(config, """{"Modalities":{"Audio":{"MaxDurationSeconds":"20"}}}""");
        (string Id, string Path, string Reason)[] bad =
        [
            ("empty", Path.Combine(AudioFixtures, "bad", "empty.wav"), "empty file"),
            ("zero-seconds", Path.Combine(AudioFixtures, "bad", "zero_samples.wav"), "no samples"),
            ("corrupt-header", Path.Combine(AudioFixtures, "bad", "corrupt_header.wav"), "fmt "),
            ("unsupported-codec", Path.Combine(AudioFixtures, "bad", "unsupported_codec.wav"), "ffmpeg"),
            ("absurd-rate", Path.Combine(AudioFixtures, "bad", "absurd_rate.wav"), "4000000000 Hz"),
            ("too-long", Path.Combine(AudioFixtures, "audio", "long_1000_u8_34s.wav"), "the limit is 20 s"),
        ];
        string input = Dir.Combine("requests.jsonl");
        var lines = bad.Select(b => Request(b.Id, b.Path)).Prepend(Request("good-before", clean)).Append(Request("good-after", clean));
        await File.WriteAllLinesAsync(input, lines);
        string output = Dir.Combine("results.jsonl");

        var result = await CliRunner.RunAsync("judge", "--plugins-dir", Plugins.Path, "--config", config, "--model", TinyOmni(), "--input", input, "--output", output, "--max-new-tokens", "2", "--dtype", "float32");

        Assert.Equal(2, result.ExitCode);
        var records = (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(r => r.GetProperty("id").GetString()!);
        Assert.Equal(8, records.Count);
        Assert.Equal("unparsed", records["good-before"].GetProperty("status").GetString());
        Assert.Equal("unparsed", records["good-after"].GetProperty("status").GetString());
        foreach (var (id, path, reason) in bad)
        {
            var record = records[id];
            Assert.Equal("error", record.GetProperty("status").GetString());
            string error = record.GetProperty("error").GetString()!;
            Assert.Contains(path, error, StringComparison.Ordinal);
            Assert.Contains(reason, error, StringComparison.Ordinal);
        }
    }

    private static string Request(string id, string path) =>
        JsonSerializer.Serialize(new
        {
            id, task = "pointwise", template = "speech_mos", instruction = "Rate this audio on a mean opinion score (MOS) scale from 1 to 5.",
            media = new[] { new { modality = "audio", path } }, label = 3.0,
        });
}

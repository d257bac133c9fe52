using System.Text.Json;
using JudgeHost.Judging;
using JudgeHost.Pipelines;
using JudgeHost.Store;
using JudgeHost.Tests.Cli;

namespace JudgeHost.Tests.Pipelines;

public sealed class EvaluationTests
{
    private static JudgeResult Result(string id, string task, VerdictDto verdict, string label, string status = "ok") => new()
    {
        Id = id, Task = task, Status = status, Verdict = verdict, Label = JsonDocument.Parse(label).RootElement.Clone(),
    };

    private static IReadOnlyList<JudgeResult> Sample() =>
    [
        Result("p1", "pairwise", new VerdictDto("pair", Outcome: "A"), "\"A\""),
        Result("p2", "pairwise", new VerdictDto("pair", Outcome: "B"), "\"A\""),
        Result("p3", "pairwise", new VerdictDto("pair", Outcome: "tie"), "\"tie\""),
        Result("p4", "pairwise", new VerdictDto("unparsed", Reason: "missing answer"), "\"B\"", "unparsed"),
        Result("s1", "pointwise", new VerdictDto("score", Score: 4), "4"),
        Result("s2", "pointwise", new VerdictDto("score", Score: 2), "1"),
        Result("s3", "pointwise", new VerdictDto("score", Score: 5), "5"),
        Result("r1", "ranking", new VerdictDto("ranking", Ranking: "ABC"), "\"ACB\""),
        Result("r2", "ranking", new VerdictDto("unparsed", Reason: "x"), "\"ABC\"", "unparsed"),
        Result("b1", "binary", new VerdictDto("binary", Yes: true), "\"yes\""),
        Result("b2", "binary", new VerdictDto("binary", Yes: true), "\"no\""),
        new JudgeResult { Id = "e1", Task = "binary", Status = "error", Error = "bad media", Label = JsonDocument.Parse("\"no\"").RootElement.Clone() },
    ];

    [Fact]
    public void Evaluate_ComputesPerTaskMetrics_CountingUnparsedAsWrong()
    {
        var tasks = Evaluation.Evaluate(Sample()).ToDictionary(t => t.Task);
        double M(string task, string name) => tasks[task].Metrics.Single(m => m.Name == name).Value;

        Assert.Equal(0.5, M("pairwise", "accuracy"), 12);                 // p1, p3 right; p2 wrong; p4 unparsed = wrong
        Assert.Equal(1 / 3.0, M("pairwise", "accuracy_without_ties"), 12);
        Assert.Equal(0.25, M("pairwise", "parse_failure_rate"), 12);
        Assert.Equal(Metrics.Pearson([4, 2, 5], [4, 1, 5]), M("pointwise", "pearson"), 12);
        Assert.Equal((2 / 3.0 + 1.0) / 2, M("ranking", "normalized_levenshtein"), 12);   // ABC vs ACB = 2/3; unparsed = 1
        Assert.Equal(0.5, M("binary", "accuracy"), 12);
        Assert.Equal(1, tasks["binary"].Errors);
        Assert.Equal(1, tasks["pairwise"].Unparsed);
    }

    [Fact]
    public void Report_WritesMarkdownAndPngPlots()
    {
        using var dir = new TempDir();
        string report = dir.Combine("report.md");

        var images = EvalReport.Write(report, Evaluation.Evaluate(Sample()), "results.jsonl");

        Assert.Equal(3, images.Count);   // pairwise and binary confusion matrices, pointwise scatter
        foreach (string image in images)
        {
            byte[] bytes = File.ReadAllBytes(image);
            Assert.True(bytes.Length > 1000);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }

        string md = File.ReadAllText(report);
        Assert.Contains("| pairwise | 4 | 1 | 0 | accuracy 0.5,", md, StringComparison.Ordinal);
        Assert.Contains("![binary](report.binary.png)", md, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvalCommand_PrintsTableAndWritesReport()
    {
        using var dir = new TempDir();
        string input = dir.Combine("results.jsonl");
        await File.WriteAllLinesAsync(input, Sample().Select(r => JsonSerializer.Serialize(r, JudgeJson.Options)));

        var result = await CliRunner.RunAsync("eval", "--input", input, "--report", dir.Combine("r.md"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("| ranking | 2 | 1 | 0 | normalized_levenshtein 0.8333, parse_failure_rate 0.5 |", result.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(dir.Combine("r.pointwise.png")));
    }

    [Fact]
    public async Task EvalCommand_NotJudgeOutput_IsUserError()
    {
        using var dir = new TempDir();
        string input = dir.Combine("x.jsonl");
        await File.WriteAllTextAsync(input, "{\"hello\": 1\n");

        var result = await CliRunner.RunAsync("eval", "--input", input);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("line 1 is not a judge result", result.Error, StringComparison.Ordinal);
    }
}

using JudgeHost.Judging;
using JudgeHost.Pipelines;
using JudgeHost.Tests.Cli;

namespace JudgeHost.Tests.Pipelines;

public sealed class RewardFunctionTests
{
    [Theory]
    [InlineData("<think>r</think><answer>9</answer><answer>2</answer>", "A", 1.0, 1.0, 1.0)]          // right and well formatted
    [InlineData("<think>r</think><answer>2</answer><answer>9</answer>", "A", 0.5, 1.0, 0.0)]          // wrong verdict, right format
    [InlineData("Sure. <think>r</think><answer>9</answer><answer>2</answer>", "A", 0.5, 0.0, 1.0)]    // text before <think>
    [InlineData("<think>r</think><answer>5</answer><answer>5</answer>", "tie", 1.0, 1.0, 1.0)]         // tie label
    [InlineData("no protocol at all", "A", 0.0, 0.0, 0.0)]                                               // unparsed
    public void Pairwise_Reward(string response, string label, double overall, double format, double accuracy)
    {
        var r = RewardFunction.Compute(response, label, AnswerFormat.PairScores());

        Assert.Equal(overall, r.Overall, 12);
        Assert.Equal(format, r.Format);
        Assert.Equal(accuracy, r.Accuracy);
    }

    [Fact]
    public void Alpha_WeighsFormat()
    {
        var r = RewardFunction.Compute("<think>r</think><answer>no</answer>", "yes", AnswerFormat.YesNo, alpha: 0.1);
        Assert.Equal(0.1, r.Overall, 12);
        Assert.Contains("differs from label", r.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Pointwise_IsExactNumericMatch()
    {
        Assert.Equal(1, RewardFunction.Compute("<think>r</think><answer>3.80</answer>", "3.8", AnswerFormat.Pointwise(1, 5)).Accuracy);
        Assert.Equal(0, RewardFunction.Compute("<think>r</think><answer>3.8</answer>", "4", AnswerFormat.Pointwise(1, 5)).Accuracy);
    }

    [Fact]
    public async Task RewardCommand_ScoresEachLine_AndReportsBadLines()
    {
        using var dir = new TempDir();
        string input = dir.Combine("responses.jsonl");
        await File.WriteAllLinesAsync(input,
        [
            """{"id":"a","task":"binary","response":"<think>r</think><answer>yes</answer>","label":"yes"}""",
            """{"id":"b","task":"pairwise","response":"<think>r</think><answer>1</answer><answer>2</answer>","label":"A"}""",
            """{"id":"c","task":"pairwise"}""",
        ]);

        var result = await CliRunner.RunAsync("reward", "--input", input, "--alpha", "0.5");

        var lines = result.Output.Trim().Split('\n');
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("""{"id":"a","overall":1,"format":1,"accuracy":1}""", lines[0]);
        Assert.StartsWith("""{"id":"b","overall":0.5,"format":1,"accuracy":0""", lines[1], StringComparison.Ordinal);
        Assert.Contains("\"error\":\"line 3:", lines[2], StringComparison.Ordinal);
    }
}

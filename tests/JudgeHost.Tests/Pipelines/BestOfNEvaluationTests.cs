using System.Text.Json;
using JudgeHost.Judging;
using JudgeHost.Store;
using JudgeHost.Pipelines;
using JudgeHost.Tests.Cli;
using JudgeHost.Training;

namespace JudgeHost.Tests.Pipelines;

public sealed class BestOfNEvaluationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static BestOfNRecord Record(string status, int? choice, int candidates, params int[] correct) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        Status = status,
        Method = SelectionMethod.Pointwise,
        Choice = choice,
        Candidates = Enumerable.Range(0, candidates).Select(i => new CandidateOutcome(i, $"c{i}", "given")).ToList(),
        Label = JsonSerializer.SerializeToElement(correct),
    };

    [Fact]
    public void Evaluate_ComparesTheJudgesChoiceWithRandomAndFirstPicks_AndCountsNoChoiceAsWrong()
    {
        var records = new[]
        {
            Record("ok", 2, 4, 2),          // right; random 1/4; first wrong
            Record("ok", 1, 4, 0, 3),       // wrong; random 2/4; first right
            Record("no_choice", null, 4, 1), // wrong (no choice); random 1/4
            Record("ok", 0, 4),             // no correct candidate: wrong, oracle miss
        };

        var e = BestOfNEvaluation.Evaluate(records);

        Assert.Equal(4, e.Prompts);
        Assert.Equal(1, e.NoChoice);
        Assert.Equal(0.25, e.ChosenAccuracy, 12);
        Assert.Equal((0.25 + 0.5 + 0.25 + 0) / 4, e.RandomAccuracy, 12);
        Assert.Equal(0.25, e.FirstAccuracy, 12);
        Assert.Equal(0.75, e.OracleAccuracy, 12);
    }

    [Fact]
    public void CurriculumPrompts_LabelExactlyTheCorrectCandidates_OnHeldOutQuestions()
    {
        var lines = Curriculum.BestOfNPrompts(40, seed: 3);
        var trainQuestions = Curriculum.Generate(400, 3, heldOut: false).Select(i => i.Request.Instruction!).ToHashSet();

        Assert.Equal(40, lines.Count);
        Assert.Equal(lines, Curriculum.BestOfNPrompts(40, seed: 3));
        foreach (string line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var candidates = doc.RootElement.GetProperty("candidates").EnumerateArray().Select(c => c.GetString()!).ToList();
            var correct = doc.RootElement.GetProperty("label").EnumerateArray().Select(c => c.GetInt32()).ToHashSet();
            Assert.Equal(4, candidates.Count);
            Assert.DoesNotContain(doc.RootElement.GetProperty("instruction").GetString()!, trainQuestions);
            // Correct candidates are identical (the true answer); every other one differs from it.
            var truths = correct.Select(i => candidates[i]).Distinct().ToList();
            Assert.True(truths.Count <= 1);
            Assert.All(Enumerable.Range(0, 4).Where(i => !correct.Contains(i)), i => Assert.DoesNotContain(candidates[i], truths));
        }
    }

    [Fact]
    public async Task Cli_Eval_RecognisesBestOfNOutput()
    {
        string path = _dir.Combine("bon.jsonl");
        await File.WriteAllLinesAsync(path, [JsonSerializer.Serialize(Record("ok", 1, 2, 1), JudgeJson.Options), JsonSerializer.Serialize(Record("ok", 0, 2, 1), JudgeJson.Options)]);

        var result = await CliRunner.RunAsync("eval", "--input", path);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("| 2 | 0 | 0 | 0.500 | 0.000 | 0.500 | 1.000 |", result.Output, StringComparison.Ordinal);
    }
}

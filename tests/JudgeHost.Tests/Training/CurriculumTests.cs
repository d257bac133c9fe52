using System.Globalization;
using JudgeHost.Judging;
using JudgeHost.Training;

namespace JudgeHost.Tests.Training;

public sealed class CurriculumTests
{
    [Fact]
    public void Generate_EveryTargetParsesToItsLabel_InAllFourFormats()
    {
        var items = Curriculum.Generate(400, seed: 7, heldOut: false);

        Assert.Equal(100, items.Count(i => i.Request.Task == JudgeTask.Pairwise));
        foreach (var item in items)
        {
            var request = item.Request;
            var scale = request.Scale ?? new ScoreScale(1, request.Task == JudgeTask.Pointwise ? 5 : 10);
            var format = request.Task switch
            {
                JudgeTask.Pointwise => AnswerFormat.Pointwise(scale.Min, scale.Max),
                JudgeTask.Pairwise => AnswerFormat.PairScores(scale.Min, scale.Max),
                JudgeTask.Ranking => AnswerFormat.RankingScores(request.Candidates.Count, scale.Min, scale.Max),
                _ => AnswerFormat.YesNo,
            };
            var verdict = VerdictDto.From(VerdictParser.Parse(item.Messages[^1].Content, format));
            string label = request.Label!.Value.ValueKind == System.Text.Json.JsonValueKind.Number
                ? request.Label.Value.GetDouble().ToString(CultureInfo.InvariantCulture)
                : request.Label.Value.GetString()!;

            string predicted = request.Task switch
            {
                JudgeTask.Pointwise => verdict.Score!.Value.ToString(CultureInfo.InvariantCulture),
                JudgeTask.Pairwise => verdict.Outcome!,
                JudgeTask.Ranking => verdict.Ranking!,
                _ => verdict.Yes == true ? "yes" : "no",
            };
            Assert.True(label == predicted, $"{request.Id}: label {label}, target parses to {predicted}: {item.Messages[^1].Content}");
        }

        // Labels are balanced enough to learn from: both outcomes of each classification task occur often.
        Assert.InRange(items.Count(i => i.Request.Task == JudgeTask.Binary && i.Request.Label!.Value.GetString() == "yes"), 30, 70);
        Assert.InRange(items.Count(i => i.Request.Task == JudgeTask.Pairwise && i.Request.Label!.Value.GetString() == "tie"), 15, 55);
    }

    [Fact]
    public void Generate_IsSeeded_AndTheHeldOutQuestionsAreNotTrainingQuestions()
    {
        var a = Curriculum.Generate(200, seed: 1, heldOut: false);
        var b = Curriculum.Generate(200, seed: 1, heldOut: false);
        var test = Curriculum.Generate(200, seed: 1, heldOut: true);

        Assert.Equal(a.Select(Curriculum.SftLine), b.Select(Curriculum.SftLine));
        Assert.NotEqual(a.Select(Curriculum.SftLine), Curriculum.Generate(200, seed: 2, heldOut: false).Select(Curriculum.SftLine));
        Assert.Empty(a.Select(i => i.Request.Instruction).Intersect(test.Select(i => i.Request.Instruction)));
    }

    [Fact]
    public void Generate_SystemAndUserAreWhatJudgeRendersForTheRequest()
    {
        var item = Curriculum.Generate(4, seed: 3, heldOut: false)[1];   // pairwise
        var rendered = DefaultTemplates.Pairwise.Render(new PromptValues("", item.Request.Instruction, null, "1", "10"), item.Request.Candidates);

        Assert.Equal(JudgeTask.Pairwise, item.Request.Task);
        Assert.Equal(rendered.System, item.Messages[0].Content);
        Assert.Equal(rendered.User, item.Messages[1].Content);
        Assert.StartsWith("<think>\n", item.Messages[2].Content, StringComparison.Ordinal);
    }
    [Theory]
    [InlineData("9000 milliliters", "90000 milliliters", "check 9 9 ok, 0 0 ok, 0 0 ok, 0 0 ok, - 0 no")]
    [InlineData("62", "55", "check 6 5 no, 2 5 no")]
    [InlineData("C B A", "C B A", "check C C ok, B B ok, A A ok")]
    [InlineData("C b", "C B A", "check C C ok, b B no, - A no")]
    public void Check_PairsEachCharacterWithTheCorrectOne_LengthIncluded(string candidate, string truth, string expected)
    {
        Assert.Equal(expected, Curriculum.Check(candidate, truth));
    }

    [Fact]
    public void Reasoning_CopiesEachCandidateAsThePromptShowsIt_BeforeTheRightAnswer_ThenChecksEach()
    {
        var item = Curriculum.Generate(4, seed: 3, heldOut: false)[1];   // pairwise
        string reasoning = item.Messages[2].Content;
        int truthAt = reasoning.IndexOf("The correct answer:\n", StringComparison.Ordinal);

        Assert.True(truthAt > 0, reasoning);
        foreach (var (candidate, i) in item.Request.Candidates.Select((c, i) => (c, i + 1)))
        {
            Assert.Contains($"]\n{candidate}", item.Messages[1].Content, StringComparison.Ordinal);
            int copyAt = reasoning.IndexOf($"Assistant {i} answered:\n{candidate}\n", StringComparison.Ordinal);
            Assert.InRange(copyAt, 0, truthAt);
            Assert.True(reasoning.IndexOf($"Assistant {i}: check ", truthAt, StringComparison.Ordinal) > truthAt, reasoning);
        }
    }
}

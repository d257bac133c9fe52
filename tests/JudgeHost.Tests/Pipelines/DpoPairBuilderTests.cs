using JudgeHost.Abstractions;
using JudgeHost.Judging;
using JudgeHost.Pipelines;
using JudgeHost.Tests.Judging;

namespace JudgeHost.Tests.Pipelines;

public sealed class DpoPairBuilderTests
{
    private static DpoRecord Build(ScriptedBackend backend, string[] candidates, double margin = 0, DpoJudgeMode mode = DpoJudgeMode.Pairwise) =>
        new DpoPairBuilder(new JudgeService(backend, new JudgeOptions()), new DpoOptions { MinMargin = margin, Mode = mode })
            .Build(new PromptItem { Id = "d1", Instruction = "Describe it." }, Candidate.FromInput(candidates));

    [Fact]
    public void ConsistentWinner_IsKept_WithTheBetterAsChosen()
    {
        var backend = QualityJudge.Honest();

        var record = Build(backend, ["q=2", "q=4"]);

        var pair = Assert.Single(record.Pairs);
        Assert.Equal((1, 0), (pair.ChosenIndex, pair.RejectedIndex));
        Assert.Equal(("q=4", "q=2"), (pair.Chosen, pair.Rejected));
        Assert.Equal((4.0, 2.0), (pair.ChosenScore!.Value, pair.RejectedScore!.Value));
        Assert.Empty(record.Dropped);
        Assert.Equal(["AB", "BA"], Assert.Single(record.Judgments).Samples.Select(s => s.Order));   // both orders judged
        Assert.Equal(2, backend.Calls.Count);
    }

    [Fact]
    public void PositionBiasedJudge_OrdersDisagree_IsDropped()
    {
        var record = Build(QualityJudge.PositionBiased(), ["q=2", "q=4"]);

        Assert.Empty(record.Pairs);
        var dropped = Assert.Single(record.Dropped);
        Assert.Equal(DpoDropReasons.OrdersDisagree, dropped.Reason);
        Assert.Contains("AB: A", dropped.Detail, StringComparison.Ordinal);
        Assert.Contains("BA: B", dropped.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("q=3", "q=3", DpoDropReasons.Tie)]             // both orders agree neither is better
    [InlineData("q=3", "no quality", DpoDropReasons.Unparsed)] // the judge gave no readable verdict
    public void NoPreference_IsDroppedWithTheReason(string a, string b, string reason)
    {
        var record = Build(QualityJudge.Honest(), [a, b]);

        Assert.Empty(record.Pairs);
        Assert.Equal(reason, Assert.Single(record.Dropped).Reason);
    }

    [Theory]
    [InlineData(2.0, false)]   // 4 - 3 = 1 < 2: dropped
    [InlineData(1.0, true)]    // exactly the margin: kept
    public void Margin_IsAppliedToTheMeanScores(double margin, bool kept)
    {
        var record = Build(QualityJudge.Honest(), ["q=3", "q=4"], margin);

        Assert.Equal(kept ? 1 : 0, record.Pairs.Count);
        if (!kept)
        {
            Assert.Equal(DpoDropReasons.BelowMargin, Assert.Single(record.Dropped).Reason);
        }
    }

    [Fact]
    public void ThreeCandidates_EveryPairIsJudged_AndStatsCountTheReasons()
    {
        var record = Build(QualityJudge.Honest(), ["q=2", "q=4", "q=4"]);
        var stats = new DpoStats();
        stats.Add(record);
        stats.Add(new DpoRecord { Id = "bad", Status = "error", Error = "line 2: broken" });

        Assert.Equal([(1, 0), (2, 0)], record.Pairs.Select(p => (p.ChosenIndex, p.RejectedIndex)));
        Assert.Equal((1, 2, DpoDropReasons.Tie), (record.Dropped[0].A, record.Dropped[0].B, record.Dropped[0].Reason));
        Assert.Equal((2, 1, 3, 2), (stats.Prompts, stats.PromptsFailed, stats.PairsJudged, stats.PairsKept));
        Assert.Equal(1, stats.Dropped[DpoDropReasons.Tie]);
        Assert.Equal("dpo: kept 2 of 3 judged pair(s) (66.7%) from 2 prompt(s); dropped: 1 tie; 1 prompt(s) failed", stats.Summary());
    }

    [Fact]
    public void Pointwise_BestAgainstWorst()
    {
        var record = Build(QualityJudge.Honest(), ["q=3", "q=5", "q=1"], mode: DpoJudgeMode.Pointwise);

        var pair = Assert.Single(record.Pairs);
        Assert.Equal((1, 2), (pair.ChosenIndex, pair.RejectedIndex));
        Assert.Equal(3, record.Judgments.Count);
    }

    [Fact]
    public void Pointwise_EqualScores_AreDropped()
    {
        var record = Build(QualityJudge.Honest(), ["q=3", "q=3"], mode: DpoJudgeMode.Pointwise);

        Assert.Equal(DpoDropReasons.EqualScores, Assert.Single(record.Dropped).Reason);
    }

    [Fact]
    public void OneCandidate_IsAUserError()
    {
        var e = Assert.Throws<JudgeHostException>(() => Build(QualityJudge.Honest(), ["q=3"]));

        Assert.Contains("needs at least 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_RoundTripsThroughTheStoredJson_WithNullDetailsAndScores()
    {
        // Exports and statistics are rebuilt from the stored JSON; a tie (no detail) and a bracket verdict (no scores)
        // must read back.
        var record = Build(QualityJudge.Honest(), ["q=2", "q=4", "q=4"]) with { Pairs = [new DpoPair(1, 0, "q=4", "q=2", "d1#p0-1")] };
        string json = System.Text.Json.JsonSerializer.Serialize(record, JudgeHost.Store.JudgeJson.Options);

        var back = System.Text.Json.JsonSerializer.Deserialize<DpoRecord>(json, JudgeHost.Store.JudgeJson.Options)!;

        Assert.Equal(record.Pairs, back.Pairs);
        Assert.Equal(record.Dropped, back.Dropped);
        Assert.Null(back.Dropped[0].Detail);
        Assert.Equal("d1", back.Prompt!.Id);
        new DpoStats().Add(back);
    }
}

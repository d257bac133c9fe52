using JudgeHost.Judging;

namespace JudgeHost.Tests.Judging;

public sealed class AggregationTests
{
    [Fact]
    public void Vote_PairsWithEqualTopCounts_IsTie()
    {
        Verdict[] votes = [new Verdict.Pair(PairOutcome.A, null, null), new Verdict.Pair(PairOutcome.B, null, null), new Verdict.Pair(PairOutcome.Tie, null, null)];
        Assert.Equal(PairOutcome.Tie, Assert.IsType<Verdict.Pair>(Aggregation.Vote(votes)).Outcome);
    }

    [Fact]
    public void Vote_PairsMajority_Wins()
    {
        Verdict[] votes = [new Verdict.Pair(PairOutcome.B, 2, 8), new Verdict.Pair(PairOutcome.B, 3, 7), new Verdict.Pair(PairOutcome.A, 6, 5)];
        var v = Assert.IsType<Verdict.Pair>(Aggregation.Vote(votes));
        Assert.Equal(PairOutcome.B, v.Outcome);
        Assert.Equal(11 / 3.0, v.ScoreA!.Value, 10);
    }

    [Fact]
    public void Vote_BinaryTie_IsUnparsedNotAGuess()
    {
        Verdict[] votes = [new Verdict.Binary(true), new Verdict.Binary(false)];
        Assert.Contains("vote tied", Assert.IsType<Verdict.Unparsed>(Aggregation.Vote(votes)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Vote_Rankings_ByMeanPosition()
    {
        Verdict[] votes = [new Verdict.Ranking([0, 1, 2], null, false), new Verdict.Ranking([1, 0, 2], null, false), new Verdict.Ranking([1, 2, 0], null, false)];
        // mean positions: 0 -> (0+1+2)/3 = 1, 1 -> (1+0+0)/3 = 1/3, 2 -> (2+2+1)/3 = 5/3
        Assert.Equal("BAC", Assert.IsType<Verdict.Ranking>(Aggregation.Vote(votes)).Letters);
    }

    [Fact]
    public void Vote_AllUnparsed_IsUnparsed() =>
        Assert.IsType<Verdict.Unparsed>(Aggregation.Vote([new Verdict.Unparsed("a", "x"), new Verdict.Unparsed("b", "y")]));

    [Fact]
    public void Unswap_MapsBackToOriginalCandidates()
    {
        var v = Assert.IsType<Verdict.Pair>(Aggregation.Unswap(new Verdict.Pair(PairOutcome.A, 9, 2)));
        Assert.Equal(new Verdict.Pair(PairOutcome.B, 2, 9), v);
    }

    [Fact]
    public void BothOrders_OneUnparsed_IsUnparsedAndSaysWhich()
    {
        var (verdict, agree) = Aggregation.BothOrders(new Verdict.Pair(PairOutcome.A, null, null), new Verdict.Unparsed("missing answer", "raw"), DisagreementPolicy.Tie);
        Assert.StartsWith("swapped order unparsed", Assert.IsType<Verdict.Unparsed>(verdict).Reason, StringComparison.Ordinal);
        Assert.Null(agree);
    }
}

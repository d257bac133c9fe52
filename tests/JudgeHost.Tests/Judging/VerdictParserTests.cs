using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using JudgeHost.Judging;

namespace JudgeHost.Tests.Judging;

public sealed class VerdictParserTests
{
    private static readonly AnswerFormat Pair = AnswerFormat.PairScores();
    private static readonly AnswerFormat Score5 = AnswerFormat.Pointwise(1, 5);

    [Theory]
    [InlineData("<think>a is better</think><answer>8</answer><answer>3</answer>", PairOutcome.A)]      // reference format
    [InlineData("<think>x</think>\n<answer> 2 </answer>\n<answer>9</answer>", PairOutcome.B)]           // whitespace inside tags
    [InlineData("<think>x</think><answer>7.5</answer><answer>7.5</answer>", PairOutcome.Tie)]         // decimals, equal = tie
    [InlineData("reasoning without opening tag</think><answer>4</answer><answer>6</answer>", PairOutcome.B)] // <think> was prefilled
    public void PairScores_Valid_GivesOutcome(string raw, PairOutcome expected)
    {
        var verdict = Assert.IsType<Verdict.Pair>(VerdictParser.Parse(raw, Pair));
        Assert.Equal(expected, verdict.Outcome);
    }

    [Theory]
    [InlineData("<think>x</think><answer>8</answer>", "expected 2 answer tags")]                      // one score only
    [InlineData("<think>x</think><answer>8</answer><answer>11</answer>", "outside the scale 1–10")]     // out of range
    [InlineData("<think>x</think><answer>eight</answer><answer>3</answer>", "is not a number")]        // not a number
    [InlineData("<think>x</think>The first is better.", "missing answer")]                             // no tag
    [InlineData("<think>x</think><answer>8</answer><answer>3", "unclosed <answer> tag")]               // unclosed
    [InlineData("<think>I keep thinking <answer>8</answer><answer>3</answer>", "no </think>")]        // answer inside open reasoning
    public void PairScores_Invalid_IsUnparsedWithReason(string raw, string reason)
    {
        var verdict = Assert.IsType<Verdict.Unparsed>(VerdictParser.Parse(raw, Pair));
        Assert.Contains(reason, verdict.Reason, StringComparison.Ordinal);
        Assert.Equal(raw, verdict.Raw);
    }

    [Fact]
    public void Truncated_WithoutAnswer_SaysTruncated()
    {
        var inThink = Assert.IsType<Verdict.Unparsed>(VerdictParser.Parse("<think>long long", Score5, truncated: true));
        var afterThink = Assert.IsType<Verdict.Unparsed>(VerdictParser.Parse("<think>a</think><answer>4", Score5, truncated: true));

        Assert.StartsWith("truncated", inThink.Reason, StringComparison.Ordinal);
        Assert.StartsWith("truncated", afterThink.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AnswersInsideReasoning_AreIgnored()
    {
        const string raw = "<think>maybe <answer>1</answer>? no.</think><answer>4</answer>";
        Assert.Equal(new Verdict.Score(4), VerdictParser.Parse(raw, Score5));
    }

    [Theory]
    [InlineData("<think>x</think><answer>3</answer><answer>4</answer>", "conflicting answers")]   // two different scores
    [InlineData("<think>x</think><answer>0.5</answer>", "outside the scale 1–5")]                 // below the scale
    public void Pointwise_Invalid_IsUnparsed(string raw, string reason)
    {
        var verdict = Assert.IsType<Verdict.Unparsed>(VerdictParser.Parse(raw, Score5));
        Assert.Contains(reason, verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Pointwise_RepeatedSameAnswer_IsAccepted() =>
        Assert.Equal(new Verdict.Score(3.8), VerdictParser.Parse("<think>x</think><answer>3.8</answer><answer>3.80</answer>", Score5));

    [Theory]
    [InlineData("[[A>B]]", PairOutcome.A)]         // option 1
    [InlineData("[[B>A]]", PairOutcome.B)]         // option 2
    [InlineData("[[A=B=Good]]", PairOutcome.Tie)]  // option 3
    [InlineData("[[A=B=Bad]]", PairOutcome.BothBad)] // option 4
    [InlineData("[[ A<B ]]", PairOutcome.B)]       // reversed spelling with spaces
    public void Brackets_KnownOptions_AreRead(string answer, PairOutcome expected) =>
        Assert.Equal(expected, Assert.IsType<Verdict.Pair>(VerdictParser.Parse($"<think>x</think><answer>{answer}</answer>", AnswerFormat.PairBrackets)).Outcome);

    [Fact]
    public void Brackets_UnknownOption_IsUnparsedNotBothBad()
    {
        // The reference mapped any unknown bracket (e.g. [[A=B]]) to "both bad"; here it is a parse failure.
        var verdict = Assert.IsType<Verdict.Unparsed>(VerdictParser.Parse("<think>x</think><answer>[[A=B]]</answer>", AnswerFormat.PairBrackets));
        Assert.Contains("not one of", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RankingScores_OrdersBestFirst_WithStatedTieBreak()
    {
        var ranking = Assert.IsType<Verdict.Ranking>(VerdictParser.Parse(
            "<think>x</think><answer>3</answer><answer>8</answer><answer>6</answer><answer>8</answer>", AnswerFormat.RankingScores(4)));

        Assert.Equal([1, 3, 2, 0], ranking.Order);   // the two 8s keep candidate order
        Assert.True(ranking.TiedScores);
        Assert.Equal("BDCA", ranking.Letters);
    }

    [Theory]
    [InlineData("B > A > C", "BAC")]    // separators
    [InlineData("CAB", "CAB")]          // bare letters
    [InlineData("c, b, a", "CBA")]      // lower case with commas
    public void RankingLetters_Permutation_IsRead(string answer, string letters) =>
        Assert.Equal(letters, Assert.IsType<Verdict.Ranking>(VerdictParser.Parse($"<think>x</think><answer>{answer}</answer>", AnswerFormat.RankingLetters(3))).Letters);

    [Theory]
    [InlineData("A > B")]           // missing a candidate
    [InlineData("A > A > C")]       // repeated
    [InlineData("A > B > D")]       // unknown candidate
    [InlineData("A = B > C")]       // tie sign in a strict ranking
    public void RankingLetters_NotAPermutation_IsUnparsed(string answer) =>
        Assert.IsType<Verdict.Unparsed>(VerdictParser.Parse($"<think>x</think><answer>{answer}</answer>", AnswerFormat.RankingLetters(3)));

    [Theory]
    [InlineData("yes", true)]   // plain
    [InlineData(" No. ", false)] // case, spaces and a period
    public void YesNo_IsRead(string answer, bool yes) =>
        Assert.Equal(new Verdict.Binary(yes), VerdictParser.Parse($"<think>x</think><answer>{answer}</answer>", AnswerFormat.YesNo));

    [Fact]
    public void YesNo_Maybe_IsUnparsed() =>
        Assert.IsType<Verdict.Unparsed>(VerdictParser.Parse("<think>x</think><answer>maybe</answer>", AnswerFormat.YesNo));

    [Theory]
    [InlineData("<think>r</think><answer>5</answer>", true)]                       // exact format
    [InlineData("<think>r</think>\n<answer>5</answer><answer>3</answer>\n", true)] // two tags, whitespace
    [InlineData("Sure! <think>r</think><answer>5</answer>", false)]                // text before <think>
    [InlineData("<think>r</think><answer>5</answer> done", false)]                 // text after the answer
    [InlineData("<answer>5</answer>", false)]                                      // no reasoning
    public void IsWellFormatted_FollowsTheRewardRegex(string raw, bool expected) =>
        Assert.Equal(expected, VerdictParser.IsWellFormatted(raw));

    // ---- Properties over generated outputs ----

    private static string Num(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    [FsCheck.Xunit.Property]
    public Property PairScores_InRange_AlwaysParsesToTheSignOfTheDifference() =>
        Prop.ForAll(Gen.Choose(10, 100).Zip(Gen.Choose(10, 100)).ToArbitrary(), t =>
        {
            double a = t.Item1 / 10.0, b = t.Item2 / 10.0;
            var v = VerdictParser.Parse($"<think>r</think><answer>{Num(a)}</answer><answer>{Num(b)}</answer>", Pair);
            var expected = a > b ? PairOutcome.A : a < b ? PairOutcome.B : PairOutcome.Tie;
            return v is Verdict.Pair p && p.Outcome == expected && p.ScoreA == a && p.ScoreB == b;
        });

    [FsCheck.Xunit.Property]
    public Property AnyText_NeverThrows_AndUnparsedKeepsTheRawText() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), s =>
        {
            string raw = s ?? "";
            var v = VerdictParser.Parse(raw, Pair);
            return v is not Verdict.Unparsed u || (u.Raw == raw && u.Reason.Length > 0);
        });

    [FsCheck.Xunit.Property]
    public Property OutOfRangeScore_IsNeverAccepted() =>
        Prop.ForAll(Gen.OneOf(Gen.Choose(-50, 9), Gen.Choose(51, 500)).ToArbitrary(), tenths =>
        {
            var v = VerdictParser.Parse($"<think>r</think><answer>{Num(tenths / 10.0)}</answer>", Score5);
            return v is Verdict.Unparsed;
        });

    [FsCheck.Xunit.Property]
    public Property ShuffledLetters_AreAlwaysAPermutationRanking() =>
        Prop.ForAll(Gen.Choose(2, 8).SelectMany(n => Gen.Shuffle(Enumerable.Range(0, n).ToArray())).ToArbitrary(), order =>
        {
            string answer = string.Join(" > ", order.Select(i => (char)('A' + i)));
            var v = VerdictParser.Parse($"<think>r</think><answer>{answer}</answer>", AnswerFormat.RankingLetters(order.Length));
            return v is Verdict.Ranking r && r.Order.SequenceEqual(order);
        });
}

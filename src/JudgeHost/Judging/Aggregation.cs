using System.Text.Json.Serialization;

namespace JudgeHost.Judging;

/// <summary>What to do when the two orders of a pairwise judgment disagree.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DisagreementPolicy>))]
public enum DisagreementPolicy
{
    /// <summary>Disagreement means neither is reliably better: the verdict is a tie (default).</summary>
    [JsonStringEnumMemberName("tie")]
    Tie,

    /// <summary>The item gets no verdict (unparsed with reason "orders disagree").</summary>
    [JsonStringEnumMemberName("drop")]
    Drop,

    /// <summary>Keep the verdict of the original order.</summary>
    [JsonStringEnumMemberName("keep_first")]
    KeepFirst,
}

/// <summary>
/// Combining verdicts: the two orders of a pair, and k samples by vote. Unparsed samples never vote; they are
/// counted by the caller. Tie-breaks are stated: a pairwise vote with equal top counts is a tie (the sign-of-sum
/// rule of the reference), a binary vote with equal counts is unparsed ("vote tied"), scores are averaged, rankings
/// are combined by mean position (Borda) with equal means kept in candidate order.
/// </summary>
public static class Aggregation
{
    /// <summary>Maps a verdict given on the swapped order (B shown first) back to the original order.</summary>
    public static Verdict Unswap(Verdict swapped) => swapped switch
    {
        Verdict.Pair p => new Verdict.Pair(
            p.Outcome switch { PairOutcome.A => PairOutcome.B, PairOutcome.B => PairOutcome.A, var o => o },
            p.ScoreB,
            p.ScoreA),
        _ => swapped,
    };

    /// <summary>
    /// Combines the original-order verdict with the swapped-order verdict (already <see cref="Unswap"/>ped).
    /// Both must be parsed; agreement keeps the outcome, disagreement follows <paramref name="policy"/>.
    /// </summary>
    public static (Verdict Verdict, bool? Agree) BothOrders(Verdict original, Verdict unswapped, DisagreementPolicy policy)
    {
        if (original is Verdict.Unparsed u1)
        {
            return (new Verdict.Unparsed($"original order unparsed: {u1.Reason}", u1.Raw), null);
        }

        if (unswapped is Verdict.Unparsed u2)
        {
            return (new Verdict.Unparsed($"swapped order unparsed: {u2.Reason}", u2.Raw), null);
        }

        var a = (Verdict.Pair)original;
        var b = (Verdict.Pair)unswapped;
        if (a.Outcome == b.Outcome)
        {
            return (new Verdict.Pair(a.Outcome, Mean(a.ScoreA, b.ScoreA), Mean(a.ScoreB, b.ScoreB)), true);
        }

        return policy switch
        {
            DisagreementPolicy.Tie => (new Verdict.Pair(PairOutcome.Tie, Mean(a.ScoreA, b.ScoreA), Mean(a.ScoreB, b.ScoreB)), false),
            DisagreementPolicy.KeepFirst => (a, false),
            _ => (new Verdict.Unparsed($"orders disagree: {a.Outcome} in the original order, {b.Outcome} in the swapped order", ""), false),
        };
    }

    /// <summary>Majority vote (or mean) over k samples of one task; all-unparsed gives unparsed.</summary>
    public static Verdict Vote(IReadOnlyList<Verdict> samples)
    {
        var parsed = samples.Where(s => s.IsParsed).ToList();
        if (parsed.Count == 0)
        {
            return samples.Count == 1 ? samples[0] : new Verdict.Unparsed($"all {samples.Count} samples unparsed", "");
        }

        if (parsed.Count == 1)
        {
            return parsed[0];
        }

        return parsed[0] switch
        {
            Verdict.Score => new Verdict.Score(parsed.Cast<Verdict.Score>().Average(s => s.Value)),
            Verdict.Pair => VotePairs(parsed.Cast<Verdict.Pair>().ToList()),
            Verdict.Binary => VoteBinary(parsed.Cast<Verdict.Binary>().ToList()),
            Verdict.Ranking => VoteRankings(parsed.Cast<Verdict.Ranking>().ToList()),
            _ => throw new InvalidOperationException($"Cannot vote over {parsed[0].GetType().Name}."),
        };
    }

    private static Verdict VotePairs(List<Verdict.Pair> pairs)
    {
        var counts = pairs.GroupBy(p => p.Outcome).Select(g => (Outcome: g.Key, Count: g.Count())).OrderByDescending(c => c.Count).ToList();
        var outcome = counts.Count > 1 && counts[0].Count == counts[1].Count ? PairOutcome.Tie : counts[0].Outcome;
        return new Verdict.Pair(outcome, Mean(pairs.Select(p => p.ScoreA)), Mean(pairs.Select(p => p.ScoreB)));
    }

    private static Verdict VoteBinary(List<Verdict.Binary> votes)
    {
        int yes = votes.Count(v => v.Yes);
        int no = votes.Count - yes;
        return yes == no ? new Verdict.Unparsed($"vote tied: {yes} yes, {no} no", "") : new Verdict.Binary(yes > no);
    }

    private static Verdict VoteRankings(List<Verdict.Ranking> rankings)
    {
        int n = rankings[0].Order.Count;
        if (rankings.Any(r => r.Order.Count != n))
        {
            throw new InvalidOperationException("Rankings to combine cover different numbers of candidates.");
        }

        var meanPosition = new double[n];
        foreach (var r in rankings)
        {
            for (int pos = 0; pos < n; pos++)
            {
                meanPosition[r.Order[pos]] += (double)pos / rankings.Count;
            }
        }

        int[] order = Enumerable.Range(0, n).OrderBy(i => meanPosition[i]).ThenBy(i => i).ToArray();
        bool tied = meanPosition.Distinct().Count() < n;
        IReadOnlyList<double>? scores = rankings.All(r => r.Scores is not null)
            ? Enumerable.Range(0, n).Select(i => rankings.Average(r => r.Scores![i])).ToArray()
            : null;
        return new Verdict.Ranking(order, scores, tied || rankings.Any(r => r.TiedScores));
    }

    private static double? Mean(double? a, double? b) => a is { } x && b is { } y ? (x + y) / 2 : a ?? b;

    private static double? Mean(IEnumerable<double?> values)
    {
        var present = values.Where(v => v.HasValue).Select(v => v!.Value).ToList();
        return present.Count == 0 ? null : present.Average();
    }
}

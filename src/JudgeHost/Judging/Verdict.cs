namespace JudgeHost.Judging;

/// <summary>
/// What one judge output says. An output that cannot be read is <see cref="Unparsed"/>, with the raw text and the
/// reason — never a default score.
/// </summary>
public abstract record Verdict
{
    private Verdict()
    {
    }

    public bool IsParsed => this is not Unparsed;

    /// <summary>A single score on the task's scale.</summary>
    public sealed record Score(double Value) : Verdict;

    /// <summary>A pairwise outcome, with the two scores when the format gives scores.</summary>
    public sealed record Pair(PairOutcome Outcome, double? ScoreA, double? ScoreB) : Verdict;

    /// <summary>
    /// A ranking: candidate indices (0-based) best first, and the scores when the format gives scores.
    /// <see cref="TiedScores"/> is true when equal scores had to be ordered by the stated tie-break (earlier candidate first).
    /// </summary>
    public sealed record Ranking(IReadOnlyList<int> Order, IReadOnlyList<double>? Scores, bool TiedScores) : Verdict
    {
        /// <summary>The order as letters, A = first candidate (the MLLM-as-a-Judge batch format).</summary>
        public string Letters => string.Concat(Order.Select(i => (char)('A' + i)));
    }

    /// <summary>A yes/no answer.</summary>
    public sealed record Binary(bool Yes) : Verdict;

    /// <summary>The output could not be read; <see cref="Reason"/> says why.</summary>
    public sealed record Unparsed(string Reason, string Raw) : Verdict;
}

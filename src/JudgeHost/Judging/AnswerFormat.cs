namespace JudgeHost.Judging;

/// <summary>How the judge is asked to write its answer, and what range a score may take.</summary>
/// <param name="Kind">What the answer tags hold.</param>
/// <param name="Min">Lowest valid score (score kinds).</param>
/// <param name="Max">Highest valid score (score kinds).</param>
/// <param name="Candidates">Candidates the output must cover (ranking; 2 for pairwise).</param>
public sealed record AnswerFormat(AnswerKind Kind, double Min = 1, double Max = 10, int Candidates = 1)
{
    public static AnswerFormat Pointwise(double min, double max) => new(AnswerKind.Score, min, max);

    public static AnswerFormat PairScores(double min = 1, double max = 10) => new(AnswerKind.PairScores, min, max, 2);

    public static AnswerFormat PairBrackets { get; } = new(AnswerKind.PairBrackets, Candidates: 2);

    public static AnswerFormat RankingScores(int candidates, double min = 1, double max = 10) => new(AnswerKind.RankingScores, min, max, candidates);

    public static AnswerFormat RankingLetters(int candidates) => new(AnswerKind.RankingLetters, Candidates: candidates);

    public static AnswerFormat YesNo { get; } = new(AnswerKind.YesNo);
}

/// <summary>What the <c>&lt;answer&gt;</c> tags hold.</summary>
public enum AnswerKind
{
    /// <summary>One number: <c>&lt;answer&gt;3.8&lt;/answer&gt;</c>.</summary>
    Score,

    /// <summary>Two numbers in two tags, equal means tie: <c>&lt;answer&gt;3&lt;/answer&gt;&lt;answer&gt;5&lt;/answer&gt;</c>.</summary>
    PairScores,

    /// <summary>One bracket verdict: <c>&lt;answer&gt;[[A&gt;B]]&lt;/answer&gt;</c>, <c>[[B&gt;A]]</c>, <c>[[A=B=Good]]</c>, <c>[[A=B=Bad]]</c>.</summary>
    PairBrackets,

    /// <summary>One number per candidate, in candidate order (the MLLM-as-a-Judge batch format).</summary>
    RankingScores,

    /// <summary>One tag with a permutation of candidate letters, best first: <c>&lt;answer&gt;B &gt; A &gt; C&lt;/answer&gt;</c>.</summary>
    RankingLetters,

    /// <summary>One tag with yes or no.</summary>
    YesNo,
}

using System.Text.Json.Serialization;

namespace JudgeHost.Judging;

/// <summary>A verdict as JSON: <c>kind</c> plus the fields of that kind.</summary>
public sealed record VerdictDto(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("score")] double? Score = null,
    [property: JsonPropertyName("outcome")] string? Outcome = null,
    [property: JsonPropertyName("score_a")] double? ScoreA = null,
    [property: JsonPropertyName("score_b")] double? ScoreB = null,
    [property: JsonPropertyName("ranking")] string? Ranking = null,
    [property: JsonPropertyName("scores")] IReadOnlyList<double>? Scores = null,
    [property: JsonPropertyName("tied_scores")] bool? TiedScores = null,
    [property: JsonPropertyName("yes")] bool? Yes = null,
    [property: JsonPropertyName("reason")] string? Reason = null)
{
    public static VerdictDto From(Verdict verdict) => verdict switch
    {
        Verdict.Score s => new("score", Score: s.Value),
        Verdict.Pair p => new("pair", Outcome: p.Outcome switch { PairOutcome.A => "A", PairOutcome.B => "B", PairOutcome.Tie => "tie", _ => "both_bad" }, ScoreA: p.ScoreA, ScoreB: p.ScoreB),
        Verdict.Ranking r => new("ranking", Ranking: r.Letters, Scores: r.Scores, TiedScores: r.TiedScores),
        Verdict.Binary b => new("binary", Yes: b.Yes),
        Verdict.Unparsed u => new("unparsed", Reason: u.Reason),
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict, "Unknown verdict."),
    };
}

/// <summary>One generated sample of a judgment.</summary>
public sealed record SampleRecord(
    [property: JsonPropertyName("order")] string Order,
    [property: JsonPropertyName("sample")] int Sample,
    [property: JsonPropertyName("raw")] string Raw,
    [property: JsonPropertyName("verdict")] VerdictDto Verdict,
    [property: JsonPropertyName("tokens")] int Tokens,
    [property: JsonPropertyName("truncated")] bool Truncated,
    [property: JsonPropertyName("waits")] int Waits,
    [property: JsonPropertyName("forced_answer")] bool ForcedAnswer);

/// <summary>
/// One output line of <c>judgehost judge</c>. <c>status</c>: <c>ok</c> (a verdict), <c>unparsed</c> (the judge
/// answered but no verdict could be read; see <c>verdict.reason</c> and the samples), or <c>error</c> (the request
/// could not be judged; see <c>error</c>).
/// </summary>
public sealed record JudgeResult
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("task")]
    public string? Task { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("verdict")]
    public VerdictDto? Verdict { get; init; }

    [JsonPropertyName("error")]
    public string? Error { get; init; }

    /// <summary>Pairwise judged in both orders: whether they agreed (null when an order was unparsed or not run).</summary>
    [JsonPropertyName("orders_agree")]
    public bool? OrdersAgree { get; init; }

    [JsonPropertyName("samples")]
    public IReadOnlyList<SampleRecord> Samples { get; init; } = [];

    [JsonPropertyName("unparsed_samples")]
    public int UnparsedSamples { get; init; }

    [JsonPropertyName("prompt_tokens")]
    public int PromptTokens { get; init; }

    [JsonPropertyName("generated_tokens")]
    public int GeneratedTokens { get; init; }

    [JsonPropertyName("elapsed_ms")]
    public double ElapsedMs { get; init; }

    [JsonPropertyName("label")]
    public System.Text.Json.JsonElement? Label { get; init; }

    public static JudgeResult Failed(string id, string? task, string error) => new() { Id = id, Task = task, Status = "error", Error = error };
}

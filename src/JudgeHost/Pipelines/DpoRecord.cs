using System.Text.Json.Serialization;
using JudgeHost.Judging;

namespace JudgeHost.Pipelines;

/// <summary>How DPO pairs are judged.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DpoJudgeMode>))]
public enum DpoJudgeMode
{
    /// <summary>Every pair judged in both orders; kept only when both orders name the same winner (the Flex-Mol rule).</summary>
    [JsonStringEnumMemberName("pairwise")]
    Pairwise,

    /// <summary>Every candidate scored alone; the best and the worst form the pair when their scores differ by the margin.</summary>
    [JsonStringEnumMemberName("pointwise")]
    Pointwise,
}

/// <summary>A kept preference pair, in candidate indices, with the texts the exports carry.</summary>
public sealed record DpoPair(
    [property: JsonPropertyName("chosen_index")] int ChosenIndex,
    [property: JsonPropertyName("rejected_index")] int RejectedIndex,
    [property: JsonPropertyName("chosen")] string Chosen,
    [property: JsonPropertyName("rejected")] string Rejected,
    [property: JsonPropertyName("judgment")] string Judgment,
    [property: JsonPropertyName("chosen_score")] double? ChosenScore = null,
    [property: JsonPropertyName("rejected_score")] double? RejectedScore = null);

/// <summary>A pair that was judged and not kept, and why (one of <see cref="DpoDropReasons"/>).</summary>
public sealed record DroppedPair(
    [property: JsonPropertyName("a")] int A,
    [property: JsonPropertyName("b")] int B,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("detail")] string? Detail = null,
    [property: JsonPropertyName("judgment")] string? Judgment = null);

/// <summary>Why a pair was dropped.</summary>
public static class DpoDropReasons
{
    /// <summary>The two orders named different winners (position bias).</summary>
    public const string OrdersDisagree = "orders_disagree";

    /// <summary>Both orders agreed that neither is better.</summary>
    public const string Tie = "tie";

    /// <summary>Both orders agreed that both are bad (bracket verdicts).</summary>
    public const string BothBad = "both_bad";

    /// <summary>An order (or a score) could not be read.</summary>
    public const string Unparsed = "unparsed";

    /// <summary>The judgment could not be run (e.g. rejected media).</summary>
    public const string JudgeError = "judge_error";

    /// <summary>The score difference is below <c>--min-margin</c>, or the verdict has no scores to measure it.</summary>
    public const string BelowMargin = "below_margin";

    /// <summary>Pointwise: the best and worst scores are equal.</summary>
    public const string EqualScores = "equal_scores";

    /// <summary>Pointwise: fewer than two candidates got a score.</summary>
    public const string TooFewScored = "too_few_scored";
}

/// <summary>
/// One output line of <c>dpo</c>: the prompt as read (exports are rebuilt from it on resume), its candidates, every
/// judgment, the kept pairs and the dropped ones with reasons. <c>status</c>: <c>ok</c> or <c>error</c>.
/// </summary>
public sealed record DpoRecord
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("mode")]
    public DpoJudgeMode? Mode { get; init; }

    [JsonPropertyName("prompt")]
    public PromptItem? Prompt { get; init; }

    [JsonPropertyName("candidates")]
    public IReadOnlyList<Candidate> Candidates { get; init; } = [];

    [JsonPropertyName("pairs")]
    public IReadOnlyList<DpoPair> Pairs { get; init; } = [];

    [JsonPropertyName("dropped")]
    public IReadOnlyList<DroppedPair> Dropped { get; init; } = [];

    [JsonPropertyName("judgments")]
    public IReadOnlyList<JudgeResult> Judgments { get; init; } = [];

    [JsonPropertyName("parse_failures")]
    public int ParseFailures { get; init; }

    [JsonPropertyName("judge_errors")]
    public int JudgeErrors { get; init; }

    [JsonPropertyName("error")]
    public string? Error { get; init; }
}

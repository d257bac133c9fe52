using System.Text.Json;
using System.Text.Json.Serialization;
using JudgeHost.Judging;

namespace JudgeHost.Pipelines;

/// <summary>How best-of-N picks a candidate.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SelectionMethod>))]
public enum SelectionMethod
{
    /// <summary>Score every candidate alone; the highest score wins.</summary>
    [JsonStringEnumMemberName("pointwise")]
    Pointwise,

    /// <summary>Single-elimination bracket of pairwise matches, each judged in both orders.</summary>
    [JsonStringEnumMemberName("knockout")]
    Knockout,

    /// <summary>Every pair judged in both orders; most wins (a tie counts half) wins.</summary>
    [JsonStringEnumMemberName("round_robin")]
    RoundRobin,

    /// <summary>One ranking judgment over all candidates (at most 26); the top-ranked wins.</summary>
    [JsonStringEnumMemberName("listwise")]
    Listwise,
}

/// <summary>A candidate in a best-of-N record, with what the selection made of it.</summary>
public sealed record CandidateOutcome(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("judged_text")] string? JudgedText = null,
    [property: JsonPropertyName("score")] double? Score = null,
    [property: JsonPropertyName("wins")] double? Wins = null,
    [property: JsonPropertyName("rank")] int? Rank = null);

/// <summary>One pairwise match of a tournament, in candidate indices.</summary>
/// <param name="Round">Knockout round (1-based); 0 for round-robin.</param>
/// <param name="A">Candidate shown first in the original order.</param>
/// <param name="B">Candidate shown second in the original order.</param>
/// <param name="Outcome">A, B, tie, both_bad, unparsed or error (both orders combined; disagreement is a tie).</param>
/// <param name="OrdersAgree">Whether both orders gave the same outcome (null when one was unparsed).</param>
/// <param name="Winner">The candidate that advanced (knockout); null in round-robin.</param>
/// <param name="DecidedBy"><c>verdict</c> or <c>tie_break</c>.</param>
/// <param name="Judgment">Id of the judgment in <c>judgments</c>.</param>
public sealed record MatchRecord(
    [property: JsonPropertyName("round")] int Round,
    [property: JsonPropertyName("a")] int A,
    [property: JsonPropertyName("b")] int B,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("orders_agree")] bool? OrdersAgree,
    [property: JsonPropertyName("winner")] int? Winner,
    [property: JsonPropertyName("decided_by")] string DecidedBy,
    [property: JsonPropertyName("judgment")] string Judgment);

/// <summary>A tie resolved by the seeded rule.</summary>
public sealed record TieBreakRecord(
    [property: JsonPropertyName("tied")] IReadOnlyList<int> Tied,
    [property: JsonPropertyName("picked")] int Picked,
    [property: JsonPropertyName("rule")] string Rule);

/// <summary>
/// One output line of <c>best-of-n</c>. <c>status</c>: <c>ok</c> (a choice), <c>no_choice</c> (no judgment could be
/// read, so nothing was chosen — never a default), or <c>error</c> (the prompt could not be run; see <c>error</c>).
/// </summary>
public sealed record BestOfNRecord
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("method")]
    public SelectionMethod? Method { get; init; }

    /// <summary>Index of the chosen candidate.</summary>
    [JsonPropertyName("choice")]
    public int? Choice { get; init; }

    [JsonPropertyName("chosen")]
    public string? Chosen { get; init; }

    /// <summary>The tie resolved for the final choice, when there was one.</summary>
    [JsonPropertyName("tie_break")]
    public TieBreakRecord? TieBreak { get; init; }

    [JsonPropertyName("candidates")]
    public IReadOnlyList<CandidateOutcome> Candidates { get; init; } = [];

    [JsonPropertyName("matches")]
    public IReadOnlyList<MatchRecord>? Matches { get; init; }

    /// <summary>Every judgment made for this prompt, with each sample's raw reasoning and verdict.</summary>
    [JsonPropertyName("judgments")]
    public IReadOnlyList<JudgeResult> Judgments { get; init; } = [];

    /// <summary>Judgments that gave no readable verdict.</summary>
    [JsonPropertyName("parse_failures")]
    public int ParseFailures { get; init; }

    /// <summary>Judgments that could not be run (e.g. a plugin rejected the media).</summary>
    [JsonPropertyName("judge_errors")]
    public int JudgeErrors { get; init; }

    [JsonPropertyName("error")]
    public string? Error { get; init; }

    [JsonPropertyName("label")]
    public JsonElement? Label { get; init; }
}

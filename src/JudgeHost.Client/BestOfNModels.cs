using System.Text.Json.Serialization;

namespace JudgeHost.Client;

/// <summary>A prompt and its candidates; <see cref="Method"/>: pointwise, knockout, round_robin or listwise.</summary>
public sealed record BestOfNRequest
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("instruction")]
    public required string Instruction { get; init; }

    [JsonPropertyName("candidates")]
    public required IReadOnlyList<string> Candidates { get; init; }

    [JsonPropertyName("media")]
    public IReadOnlyList<MediaRef>? Media { get; init; }

    [JsonPropertyName("criteria")]
    public string? Criteria { get; init; }

    [JsonPropertyName("reference")]
    public string? Reference { get; init; }

    [JsonPropertyName("method")]
    public string Method { get; init; } = "pointwise";

    [JsonPropertyName("seed")]
    public long Seed { get; init; }

    [JsonPropertyName("strip_final_answer")]
    public bool StripFinalAnswer { get; init; }
}

/// <summary>A candidate as the selection saw it.</summary>
public sealed record CandidateOutcome(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("score")] double? Score = null,
    [property: JsonPropertyName("wins")] double? Wins = null,
    [property: JsonPropertyName("rank")] int? Rank = null);

/// <summary>The pick: <see cref="Status"/> ok (see <see cref="Choice"/>), no_choice (no verdict could be read) or error.</summary>
public sealed record BestOfNResponse
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("method")]
    public string? Method { get; init; }

    [JsonPropertyName("choice")]
    public int? Choice { get; init; }

    [JsonPropertyName("chosen")]
    public string? Chosen { get; init; }

    [JsonPropertyName("candidates")]
    public IReadOnlyList<CandidateOutcome> Candidates { get; init; } = [];

    [JsonPropertyName("judgments")]
    public IReadOnlyList<JudgeResult> Judgments { get; init; } = [];

    [JsonPropertyName("parse_failures")]
    public int ParseFailures { get; init; }

    [JsonPropertyName("error")]
    public string? Error { get; init; }
}

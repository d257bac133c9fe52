using System.Text.Json.Serialization;

namespace JudgeHost.Client;

/// <summary>
/// A group of candidates (RL rollouts) for one prompt. Without <see cref="Label"/> the judge scores each candidate
/// (reward = normalised score); with it, each candidate is a judge response and gets the MT-RL-Judge reward
/// R = (1 − α)·R_acc + α·R_format against that reference verdict.
/// </summary>
public sealed record RewardRequest
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("candidates")]
    public required IReadOnlyList<string> Candidates { get; init; }

    [JsonPropertyName("instruction")]
    public string? Instruction { get; init; }

    [JsonPropertyName("media")]
    public IReadOnlyList<MediaRef>? Media { get; init; }

    [JsonPropertyName("criteria")]
    public string? Criteria { get; init; }

    [JsonPropertyName("scale")]
    public ScoreScale? Scale { get; init; }

    [JsonPropertyName("reference")]
    public string? Reference { get; init; }

    [JsonPropertyName("label")]
    public string? Label { get; init; }

    [JsonPropertyName("task")]
    public JudgeTask? Task { get; init; }

    [JsonPropertyName("ranked")]
    public int? Ranked { get; init; }

    [JsonPropertyName("alpha")]
    public double? Alpha { get; init; }
}

/// <summary>One candidate's reward; <see cref="Reward"/> is null when the judge's verdict could not be read.</summary>
public sealed record CandidateReward(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("reward")] double? Reward,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("score")] double? Score = null,
    [property: JsonPropertyName("format")] double? Format = null,
    [property: JsonPropertyName("accuracy")] double? Accuracy = null,
    [property: JsonPropertyName("reason")] string? Reason = null);

/// <summary>Rewards of a group, in candidate order; <see cref="Mode"/> is "judge" or "verdict".</summary>
public sealed record RewardResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("rewards")] IReadOnlyList<CandidateReward> Rewards,
    [property: JsonPropertyName("parse_failures")] int ParseFailures,
    [property: JsonPropertyName("judgments")] IReadOnlyList<JudgeResult>? Judgments = null);

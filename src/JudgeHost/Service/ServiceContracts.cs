using System.Text.Json;
using System.Text.Json.Serialization;
using JudgeHost.Judging;
using JudgeHost.Pipelines;

namespace JudgeHost.Service;

/// <summary>Body of <c>POST /v1/judge/batch</c>: requests in the <c>judge</c> JSONL schema, judged together.</summary>
public sealed record BatchRequest(
    [property: JsonPropertyName("requests")] IReadOnlyList<JsonElement> Requests);

/// <summary>Answer of <c>POST /v1/judge/batch</c>: one result per request, in request order (a malformed item is an error result).</summary>
public sealed record BatchResponse(
    [property: JsonPropertyName("results")] IReadOnlyList<JudgeResult> Results);

/// <summary>
/// Body of <c>POST /v1/rewards</c>: a group of candidates (RL rollouts) for one prompt. Without <c>label</c> the judge
/// scores each candidate pointwise (<c>mode</c> "judge"; reward = (score − min) / (max − min)). With <c>label</c>, the
/// reference verdict, each candidate is a judge response to a judging request of <c>task</c> and gets the MT-RL-Judge
/// reward R = (1 − α)·R_acc + α·R_format (<c>mode</c> "verdict"; no model call).
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
    public IReadOnlyList<MediaRef> Media { get; init; } = [];

    [JsonPropertyName("criteria")]
    public string? Criteria { get; init; }

    [JsonPropertyName("scale")]
    public ScoreScale? Scale { get; init; }

    [JsonPropertyName("template")]
    public string? Template { get; init; }

    /// <summary>A reference answer shown to the judge (judge mode).</summary>
    [JsonPropertyName("reference")]
    public string? Reference { get; init; }

    /// <summary>The reference verdict (A/B/tie, yes/no, a letter ranking, a score): switches to the MT-RL-Judge rule reward.</summary>
    [JsonPropertyName("label")]
    public string? Label { get; init; }

    /// <summary>Verdict mode: the task of the judging request the candidates answer (default pairwise).</summary>
    [JsonPropertyName("task")]
    public JudgeTask? Task { get; init; }

    /// <summary>Verdict mode, ranking: how many candidates the judged request ranked.</summary>
    [JsonPropertyName("ranked")]
    public int? Ranked { get; init; }

    /// <summary>Verdict mode: the format weight α (default 0.5, EasyR1 r1v).</summary>
    [JsonPropertyName("alpha")]
    public double? Alpha { get; init; }
}

/// <summary>The reward of one candidate; <c>reward</c> is null when the judge's verdict could not be read (never a default).</summary>
public sealed record CandidateReward(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("reward")] double? Reward,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("score")] double? Score = null,
    [property: JsonPropertyName("format")] double? Format = null,
    [property: JsonPropertyName("accuracy")] double? Accuracy = null,
    [property: JsonPropertyName("reason")] string? Reason = null);

/// <summary>Answer of <c>POST /v1/rewards</c>.</summary>
public sealed record RewardResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("rewards")] IReadOnlyList<CandidateReward> Rewards,
    [property: JsonPropertyName("parse_failures")] int ParseFailures,
    [property: JsonPropertyName("judgments")] IReadOnlyList<JudgeResult>? Judgments = null);

/// <summary>
/// Selection settings of <c>POST /v1/best-of-n</c>, read from the same body as the prompt (a <c>best-of-n</c> JSONL
/// line with its <c>candidates</c>): <c>method</c>, <c>seed</c>, <c>strip_final_answer</c>, <c>final_answer_marker</c>.
/// </summary>
public sealed record BestOfNSettings
{
    [JsonPropertyName("method")]
    public SelectionMethod Method { get; init; } = SelectionMethod.Pointwise;

    [JsonPropertyName("seed")]
    public long Seed { get; init; }

    [JsonPropertyName("strip_final_answer")]
    public bool StripFinalAnswer { get; init; }

    [JsonPropertyName("final_answer_marker")]
    public string? FinalAnswerMarker { get; init; }
}

/// <summary>A stored job (SQLite job store of <c>best-of-n</c> / <c>dpo</c>) under the data root.</summary>
public sealed record JobListing(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string? Kind,
    [property: JsonPropertyName("finished")] int? Finished,
    [property: JsonPropertyName("error")] string? Error = null);

/// <summary>A page of a stored job's finished records (each the job's own output record), in commit order.</summary>
public sealed record JobResults(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("offset")] int Offset,
    [property: JsonPropertyName("total")] int Total,
    [property: JsonPropertyName("records")] IReadOnlyList<JsonElement> Records);

/// <summary>Answer of <c>/ready</c>.</summary>
public sealed record ReadyResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("modalities")] IReadOnlyList<string> Modalities,
    [property: JsonPropertyName("queued_prompts")] int QueuedPrompts,
    [property: JsonPropertyName("in_flight")] int InFlight);

using System.Text.Json;
using System.Text.Json.Serialization;

namespace JudgeHost.Client;

/// <summary>The four judging tasks.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JudgeTask>))]
public enum JudgeTask
{
    /// <summary>One candidate, one score.</summary>
    [JsonStringEnumMemberName("pointwise")]
    Pointwise,

    /// <summary>Two candidates: A, B or tie.</summary>
    [JsonStringEnumMemberName("pairwise")]
    Pairwise,

    /// <summary>Candidates ranked best first.</summary>
    [JsonStringEnumMemberName("ranking")]
    Ranking,

    /// <summary>A yes/no question about an aspect.</summary>
    [JsonStringEnumMemberName("binary")]
    Binary,
}

/// <summary>A media item: <c>path</c> inside the server's media root, <c>upload:NAME</c> for an uploaded file, or an inline <c>value</c>.</summary>
public sealed record MediaRef(
    [property: JsonPropertyName("modality")] string Modality,
    [property: JsonPropertyName("path")] string? Path = null,
    [property: JsonPropertyName("value")] string? Value = null,
    [property: JsonPropertyName("attributes")] IReadOnlyDictionary<string, string>? Attributes = null)
{
    /// <summary>A file sent with the request as the multipart part <paramref name="partName"/>.</summary>
    public static MediaRef Upload(string modality, string partName) => new(modality, "upload:" + partName);
}

/// <summary>A score scale, inclusive.</summary>
public sealed record ScoreScale(
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max);

/// <summary>One judging request (the <c>judge</c> JSONL schema).</summary>
public sealed record JudgeRequest
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("task")]
    public required JudgeTask Task { get; init; }

    [JsonPropertyName("instruction")]
    public required string Instruction { get; init; }

    [JsonPropertyName("candidates")]
    public IReadOnlyList<string> Candidates { get; init; } = [];

    [JsonPropertyName("media")]
    public IReadOnlyList<MediaRef>? Media { get; init; }

    [JsonPropertyName("criteria")]
    public string? Criteria { get; init; }

    [JsonPropertyName("reference")]
    public string? Reference { get; init; }

    [JsonPropertyName("scale")]
    public ScoreScale? Scale { get; init; }

    [JsonPropertyName("aspect")]
    public string? Aspect { get; init; }

    [JsonPropertyName("template")]
    public string? Template { get; init; }

    [JsonPropertyName("label")]
    public JsonElement? Label { get; init; }
}

/// <summary>A verdict: <c>kind</c> (score, pair, ranking, binary, unparsed) and its fields.</summary>
public sealed record Verdict(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("score")] double? Score = null,
    [property: JsonPropertyName("outcome")] string? Outcome = null,
    [property: JsonPropertyName("score_a")] double? ScoreA = null,
    [property: JsonPropertyName("score_b")] double? ScoreB = null,
    [property: JsonPropertyName("ranking")] string? Ranking = null,
    [property: JsonPropertyName("scores")] IReadOnlyList<double>? Scores = null,
    [property: JsonPropertyName("yes")] bool? Yes = null,
    [property: JsonPropertyName("reason")] string? Reason = null);

/// <summary>One generated sample of a judgment (its raw reasoning and verdict).</summary>
public sealed record JudgeSample(
    [property: JsonPropertyName("order")] string Order,
    [property: JsonPropertyName("sample")] int Sample,
    [property: JsonPropertyName("raw")] string Raw,
    [property: JsonPropertyName("verdict")] Verdict Verdict,
    [property: JsonPropertyName("tokens")] int Tokens,
    [property: JsonPropertyName("truncated")] bool Truncated);

/// <summary>One judgment: <c>status</c> ok (a verdict), unparsed (no verdict could be read) or error (see <c>error</c>).</summary>
public sealed record JudgeResult
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("task")]
    public string? Task { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("verdict")]
    public Verdict? Verdict { get; init; }

    [JsonPropertyName("error")]
    public string? Error { get; init; }

    [JsonPropertyName("orders_agree")]
    public bool? OrdersAgree { get; init; }

    [JsonPropertyName("samples")]
    public IReadOnlyList<JudgeSample> Samples { get; init; } = [];

    [JsonPropertyName("prompt_tokens")]
    public int PromptTokens { get; init; }

    [JsonPropertyName("generated_tokens")]
    public int GeneratedTokens { get; init; }
}

/// <summary>Answer of <c>/ready</c>.</summary>
public sealed record ReadyState(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("modalities")] IReadOnlyList<string> Modalities,
    [property: JsonPropertyName("queued_prompts")] int QueuedPrompts,
    [property: JsonPropertyName("in_flight")] int InFlight);

using System.Text.Json.Serialization;

namespace JudgeHost.Judging;

/// <summary>A media item of a request: a file (<c>path</c>) or an inline value (<c>value</c>, e.g. SMILES).</summary>
public sealed record MediaRef(
    [property: JsonPropertyName("modality")] string Modality,
    [property: JsonPropertyName("path")] string? Path = null,
    [property: JsonPropertyName("value")] string? Value = null,
    [property: JsonPropertyName("attributes")] IReadOnlyDictionary<string, string>? Attributes = null);

/// <summary>A score scale, inclusive.</summary>
public sealed record ScoreScale(
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max);

/// <summary>
/// One judging request (one JSONL line of <c>judgehost judge</c>). <c>candidates</c>: 0 or 1 for pointwise (0: the
/// media item itself is scored, e.g. speech quality), 2 for
/// pairwise, 2 or more for ranking, 0 or 1 for binary. <c>label</c> is the gold answer, carried to the output for
/// <c>eval</c> (a number, "A"/"B"/"tie", a letter ranking like "BAC", or "yes"/"no").
/// </summary>
public sealed record JudgeRequest
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("task")]
    public required JudgeTask Task { get; init; }

    [JsonPropertyName("instruction")]
    public required string Instruction { get; init; }

    [JsonPropertyName("criteria")]
    public string? Criteria { get; init; }

    /// <summary>Alias of <see cref="Criteria"/> (prometheus-eval style).</summary>
    [JsonPropertyName("rubric")]
    public string? Rubric { get; init; }

    [JsonPropertyName("media")]
    public IReadOnlyList<MediaRef> Media { get; init; } = [];

    [JsonPropertyName("candidates")]
    public IReadOnlyList<string> Candidates { get; init; } = [];

    [JsonPropertyName("reference")]
    public string? Reference { get; init; }

    [JsonPropertyName("scale")]
    public ScoreScale? Scale { get; init; }

    /// <summary>Binary tasks: the aspect asked about (naturalness, technical quality, rationality, alignment, safety, preference).</summary>
    [JsonPropertyName("aspect")]
    public string? Aspect { get; init; }

    /// <summary>Template name: a built-in (pointwise, pointwise_decimal, pairwise, pairwise_brackets, ranking, binary) or a file in --template-dir; default: the task's name.</summary>
    [JsonPropertyName("template")]
    public string? Template { get; init; }

    [JsonPropertyName("label")]
    public System.Text.Json.JsonElement? Label { get; init; }

    public string? EffectiveCriteria => Criteria ?? Rubric;
}

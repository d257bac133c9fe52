using System.Text.Json;
using System.Text.Json.Serialization;
using JudgeHost.Judging;

namespace JudgeHost.Pipelines;

/// <summary>One chat turn of a prompt (<c>{"role", "content"}</c>), as the Mol-LLaMA and TRL files carry them.</summary>
public sealed record ChatTurn(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content);

/// <summary>
/// One prompt of <c>best-of-n</c> or <c>dpo</c> (one JSONL line): the question (<c>instruction</c>, or the last user
/// turn of <c>messages</c>), its media, and the candidates — given here, or sampled from <c>--policy</c> when absent.
/// Judge settings (<c>criteria</c>, <c>scale</c>, <c>template</c>, <c>reference</c>) pass through to every judgment.
/// <c>cid</c>, <c>names</c>, <c>task_type</c> and <c>smiles</c> are carried for the Mol-LLaMA export.
/// </summary>
public sealed record PromptItem
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("instruction")]
    public string? Instruction { get; init; }

    /// <summary>System prompt of the policy (sampling and exports); the judge keeps its own.</summary>
    [JsonPropertyName("system")]
    public string? System { get; init; }

    /// <summary>The policy's chat (system + user turns) instead of <see cref="System"/> + <see cref="Instruction"/>.</summary>
    [JsonPropertyName("messages")]
    public IReadOnlyList<ChatTurn>? Messages { get; init; }

    [JsonPropertyName("media")]
    public IReadOnlyList<MediaRef> Media { get; init; } = [];

    [JsonPropertyName("candidates")]
    public IReadOnlyList<string>? Candidates { get; init; }

    [JsonPropertyName("criteria")]
    public string? Criteria { get; init; }

    [JsonPropertyName("scale")]
    public ScoreScale? Scale { get; init; }

    [JsonPropertyName("template")]
    public string? Template { get; init; }

    [JsonPropertyName("reference")]
    public string? Reference { get; init; }

    [JsonPropertyName("label")]
    public JsonElement? Label { get; init; }

    [JsonPropertyName("cid")]
    public JsonElement? Cid { get; init; }

    [JsonPropertyName("names")]
    public JsonElement? Names { get; init; }

    [JsonPropertyName("task_type")]
    public string? TaskType { get; init; }

    [JsonPropertyName("smiles")]
    public string? Smiles { get; init; }

    /// <summary>The question the candidates answer: <c>instruction</c>, else the last user turn of <c>messages</c>.</summary>
    [JsonIgnore]
    public string Question => Instruction ?? Messages?.LastOrDefault(m => m.Role == "user")?.Content ?? "";

    /// <summary>The policy's system prompt: <c>system</c>, else the system turn of <c>messages</c>.</summary>
    [JsonIgnore]
    public string? PolicySystem => System ?? Messages?.FirstOrDefault(m => m.Role == "system")?.Content;

    /// <summary>The SMILES of the prompt's molecule: <c>smiles</c>, else the value of its first molecule media item.</summary>
    [JsonIgnore]
    public string? MoleculeSmiles => Smiles ?? Media.FirstOrDefault(m => m.Modality == "molecule")?.Value;

    /// <summary>A request of <paramref name="task"/> over <paramref name="candidates"/> with this prompt's question, media and settings.</summary>
    public JudgeRequest ToRequest(string id, JudgeTask task, IReadOnlyList<string> candidates) => new()
    {
        Id = id,
        Task = task,
        Instruction = Question,
        Criteria = Criteria,
        Media = Media,
        Candidates = candidates,
        Reference = Reference,
        Scale = Scale,
        Template = Template,
    };
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace JudgeHost.Client;

/// <summary>A job store under the server's data root.</summary>
public sealed record JobListing(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("kind")] string? Kind,
    [property: JsonPropertyName("finished")] int? Finished,
    [property: JsonPropertyName("error")] string? Error = null);

/// <summary>A stored job's status.</summary>
public sealed record JobSummary(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("created_utc")] string? CreatedUtc,
    [property: JsonPropertyName("config_hash")] string? ConfigHash,
    [property: JsonPropertyName("config")] JsonElement? Config,
    [property: JsonPropertyName("finished")] int Finished,
    [property: JsonPropertyName("by_status")] IReadOnlyDictionary<string, int> ByStatus,
    [property: JsonPropertyName("last_finished_utc")] string? LastFinishedUtc);

/// <summary>A page of a stored job's (or a JSONL file's) records.</summary>
public sealed record RecordPage(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("offset")] int Offset,
    [property: JsonPropertyName("total")] int Total,
    [property: JsonPropertyName("records")] IReadOnlyList<JsonElement> Records);

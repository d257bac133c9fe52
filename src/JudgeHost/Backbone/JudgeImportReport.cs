using System.Text.Json.Serialization;

namespace JudgeHost.Backbone;

/// <summary>One judge tensor written into the Mol-LLaMA checkpoint.</summary>
/// <param name="From">Name in the judge checkpoint (transformers name).</param>
/// <param name="To">Name in the output (MolLLaMA.state_dict() name).</param>
/// <param name="Detail">How (e.g. which rows), when not a plain copy.</param>
public sealed record ImportCopy(
    [property: JsonPropertyName("from")] string From,
    [property: JsonPropertyName("to")] string To,
    [property: JsonPropertyName("detail")] string? Detail = null);

/// <summary>One Mol-LLaMA tensor written unchanged (or partly unchanged), and why.</summary>
public sealed record ImportKeep(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("why")] string Why);

/// <summary>
/// What <c>tools import-judge</c> did with every tensor: judge tensors <see cref="Copied"/> into the Mol-LLaMA
/// checkpoint, Mol-LLaMA tensors <see cref="Kept"/> or <see cref="Replaced"/>, and <see cref="Problems"/> — each tensor
/// that could not be placed, by name and reason. Nothing is skipped without an entry here.
/// </summary>
public sealed record JudgeImportReport
{
    [JsonPropertyName("mol_llama")]
    public required string MolLlama { get; init; }

    [JsonPropertyName("judge")]
    public required string Judge { get; init; }

    [JsonPropertyName("output")]
    public required string Output { get; init; }

    [JsonPropertyName("ok")]
    public bool Ok => Problems.Count == 0;

    [JsonPropertyName("counts")]
    public IReadOnlyDictionary<string, int> Counts => new Dictionary<string, int>
    {
        ["copied"] = Copied.Count, ["kept"] = Kept.Count, ["replaced"] = Replaced.Count, ["reported"] = Problems.Count,
    };

    /// <summary>Judge tensors written into the output (over Mol-LLaMA's base weights).</summary>
    [JsonPropertyName("copied")]
    public List<ImportCopy> Copied { get; init; } = [];

    /// <summary>Mol-LLaMA tensors written as they are: LoRA factors, encoder, projector, the [PAD]/&lt;mol&gt; rows.</summary>
    [JsonPropertyName("kept")]
    public List<ImportKeep> Kept { get; init; } = [];

    /// <summary>Mol-LLaMA base weights the judge's replaced.</summary>
    [JsonPropertyName("replaced")]
    public List<string> Replaced { get; init; } = [];

    /// <summary>Tensors (or settings) that could not be placed: unexpected, missing, wrong shape, incompatible.</summary>
    [JsonPropertyName("problems")]
    public List<string> Problems { get; init; } = [];

    /// <summary>Choices worth knowing that are not problems (where this import differs from the reference's, and why).</summary>
    [JsonPropertyName("notes")]
    public List<string> Notes { get; init; } = [];

    /// <summary>One line: counts per category.</summary>
    [JsonIgnore]
    public string Summary =>
        $"{Copied.Count} tensor(s) copied from the judge, {Kept.Count} kept from Mol-LLaMA ({Kept.Count(k => k.Name.Contains(".lora_", StringComparison.Ordinal))} LoRA), "
        + $"{Replaced.Count} Mol-LLaMA base weight(s) replaced, {Problems.Count} problem(s) reported";
}

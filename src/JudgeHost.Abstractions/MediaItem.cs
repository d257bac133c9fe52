namespace JudgeHost.Abstractions;

/// <summary>
/// One media item of a request: a file (<see cref="Path"/>) or an inline value (<see cref="Value"/>, e.g. a
/// SMILES string), with free-form per-item settings (e.g. <c>max_pixels</c>, <c>fps</c>).
/// </summary>
/// <param name="Modality">Modality name, e.g. <c>image</c>.</param>
/// <param name="Path">Absolute or working-directory-relative file path, or null for inline values.</param>
/// <param name="Value">Inline value, or null for files.</param>
/// <param name="Attributes">Per-item settings; never null.</param>
public sealed record MediaItem(
    string Modality,
    string? Path,
    string? Value,
    IReadOnlyDictionary<string, string> Attributes)
{
    /// <summary>Creates a file item with no attributes.</summary>
    /// <param name="modality">Modality name.</param>
    /// <param name="path">File path.</param>
    public static MediaItem FromFile(string modality, string path) =>
        new(modality, path, null, new Dictionary<string, string>());

    /// <summary>Creates an inline item with no attributes.</summary>
    /// <param name="modality">Modality name.</param>
    /// <param name="value">Inline value.</param>
    public static MediaItem FromValue(string modality, string value) =>
        new(modality, null, value, new Dictionary<string, string>());

    /// <summary>A short human-readable name for messages: the file path or the (abbreviated) inline value.</summary>
    public string Describe() => Path is not null
        ? $"{Modality} '{Path}'"
        : $"{Modality} '{(Value is { Length: > 40 } v ? v[..40] + "…" : Value)}'";
}

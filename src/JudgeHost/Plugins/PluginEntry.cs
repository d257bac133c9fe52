namespace JudgeHost.Plugins;

/// <summary>One plugin found in the plugin folder, loaded or not.</summary>
/// <param name="Name">Plugin name (its <c>IModalityPlugin.Name</c>, or the folder name when it did not load).</param>
/// <param name="Path">Absolute path of the plugin assembly.</param>
/// <param name="Version">Assembly version of the plugin, or null when unreadable.</param>
/// <param name="ContractVersion">Contract version the plugin was compiled against, or null when unknown.</param>
/// <param name="Status">Load outcome.</param>
/// <param name="Reason">Why it was skipped; null when loaded.</param>
public sealed record PluginEntry(
    string Name,
    string Path,
    Version? Version,
    Version? ContractVersion,
    PluginStatus Status,
    string? Reason)
{
    /// <summary>Modalities the plugin's encoder factories provide (filled once services are built).</summary>
    public IReadOnlyList<string> Modalities { get; init; } = [];
}

using JudgeHost.Abstractions;

namespace JudgeHost.Plugins;

/// <summary>Finds the encoder factory for a modality and checkpoint family among the loaded plugins.</summary>
public sealed class EncoderResolver(IEnumerable<IModalityEncoderFactory> factories, PluginCatalog catalog)
{
    private readonly IModalityEncoderFactory[] _factories = factories.ToArray();

    public IReadOnlyList<IModalityEncoderFactory> Factories => _factories;

    /// <summary>
    /// The factory for <paramref name="modality"/> that supports <paramref name="family"/>. Throws a typed error
    /// that lists what is available when there is none (including plugins that failed to load).
    /// </summary>
    public IModalityEncoderFactory Resolve(string modality, string family)
    {
        var byModality = _factories.Where(f => string.Equals(f.Modality, modality, StringComparison.OrdinalIgnoreCase)).ToArray();
        var match = byModality.FirstOrDefault(f => f.Families.Count == 0 || f.Families.Contains(family, StringComparer.OrdinalIgnoreCase));
        if (match is not null)
        {
            return match;
        }

        if (byModality.Length > 0)
        {
            throw new PluginLoadException(
                $"The {modality} plugin encodes for {string.Join(", ", byModality.SelectMany(f => f.Families).Distinct())}, not for checkpoint family '{family}'. Use a matching checkpoint.");
        }

        var skipped = catalog.Entries.Where(e => e.Status != PluginStatus.Loaded).Select(e => $"{e.Name} ({e.Reason})").ToArray();
        string available = _factories.Length == 0 ? "none" : string.Join(", ", _factories.Select(f => f.Modality).Distinct());
        throw new PluginLoadException(
            $"No loaded plugin provides modality '{modality}' (available: {available}; plugin folder '{catalog.Directory}')."
            + (skipped.Length > 0 ? $" Skipped plugins: {string.Join("; ", skipped)}." : " Build or copy the plugin into the plugin folder."));
    }
}

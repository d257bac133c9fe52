using Microsoft.Extensions.Options;

namespace JudgeHost.Plugins;

/// <summary>Where plugins are found. Bound from the <c>PluginHost</c> section.</summary>
public sealed class PluginHostOptions
{
    public const string Section = "PluginHost";

    /// <summary>Plugin folder, holding <c>&lt;Name&gt;/&lt;Name&gt;.dll</c>. Relative paths resolve against the
    /// working directory first, then the host's own folder.</summary>
    public string Directory { get; set; } = "plugins";
}

/// <summary>Checks <see cref="PluginHostOptions"/> at start-up.</summary>
public sealed class PluginHostOptionsValidator : IValidateOptions<PluginHostOptions>
{
    public ValidateOptionsResult Validate(string? name, PluginHostOptions options) =>
        string.IsNullOrWhiteSpace(options.Directory)
            ? ValidateOptionsResult.Fail("PluginHost:Directory is empty; set it to the plugin folder (default 'plugins').")
            : ValidateOptionsResult.Success;
}

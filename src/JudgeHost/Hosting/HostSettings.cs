namespace JudgeHost.Hosting;

/// <summary>Process-wide settings taken from the global command-line options.</summary>
/// <param name="Verbose">Debug logging and stack traces.</param>
/// <param name="PluginsDirectory">Overrides <c>PluginHost:Directory</c> when set.</param>
/// <param name="ConfigFile">Extra JSON configuration file layered over appsettings.json, or null.</param>
public sealed record HostSettings(bool Verbose, string? PluginsDirectory, string? ConfigFile);

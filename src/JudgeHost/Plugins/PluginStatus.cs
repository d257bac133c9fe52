namespace JudgeHost.Plugins;

/// <summary>Outcome of loading one plugin.</summary>
public enum PluginStatus
{
    /// <summary>Loaded and registered.</summary>
    Loaded,

    /// <summary>Built against a contract this host cannot honour; skipped.</summary>
    Incompatible,

    /// <summary>Could not be loaded or threw while registering; skipped.</summary>
    Failed,
}

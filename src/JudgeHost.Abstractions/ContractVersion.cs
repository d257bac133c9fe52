namespace JudgeHost.Abstractions;

/// <summary>
/// The version of the plugin contract. The major number changes on every breaking change; the minor number
/// when members are added. The host accepts a plugin compiled against the same major and a minor no newer
/// than its own, and reads that version from the plugin's reference to this assembly, so a plugin cannot
/// claim a version it was not built against.
/// </summary>
public static class ContractVersion
{
    /// <summary>Breaking-change number; equals this assembly's <c>AssemblyVersion</c> major.</summary>
    public const int Major = 1;

    /// <summary>Additive-change number; equals this assembly's <c>AssemblyVersion</c> minor.</summary>
    public const int Minor = 1;

    /// <summary>The contract version as a <see cref="Version"/> (<c>Major.Minor</c>).</summary>
    public static Version Current { get; } = new(Major, Minor);
}

using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using JudgeHost.Abstractions;

namespace JudgeHost.Plugins;

/// <summary>
/// Reads, without loading the assembly, which contract version a plugin was compiled against: the version of
/// its reference to <c>JudgeHost.Abstractions</c>. A plugin cannot misreport it, and a corrupt file is found
/// before it reaches a load context.
/// </summary>
internal static class ContractReference
{
    internal const string ContractAssemblyName = "JudgeHost.Abstractions";

    /// <summary>Returns the plugin's assembly version and referenced contract version (null if it has no reference).</summary>
    /// <exception cref="BadImageFormatException">Not a .NET assembly.</exception>
    public static (Version AssemblyVersion, Version? Contract) Read(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata)
        {
            throw new BadImageFormatException("The file has no .NET metadata.");
        }

        var md = pe.GetMetadataReader();
        var own = md.GetAssemblyDefinition().Version;
        foreach (var handle in md.AssemblyReferences)
        {
            var reference = md.GetAssemblyReference(handle);
            if (md.GetString(reference.Name) == ContractAssemblyName)
            {
                return (own, reference.Version);
            }
        }

        return (own, null);
    }

    /// <summary>Why a plugin built against <paramref name="contract"/> cannot load here, or null when it can.</summary>
    public static string? Incompatibility(Version? contract)
    {
        if (contract is null)
        {
            return $"it does not reference {ContractAssemblyName}, so it is not a JudgeHost plugin";
        }

        var host = ContractVersion.Current;
        if (contract.Major > host.Major || (contract.Major == host.Major && contract.Minor > host.Minor))
        {
            return $"it was built against contract {contract.Major}.{contract.Minor}, newer than this host's {host.Major}.{host.Minor}; upgrade JudgeHost or rebuild the plugin against contract {host.Major}.{host.Minor}";
        }

        if (contract.Major < host.Major)
        {
            return $"it was built against contract {contract.Major}.{contract.Minor}, an older major than this host's {host.Major}.{host.Minor}; rebuild it against the current JudgeHost.Abstractions";
        }

        return null;
    }
}

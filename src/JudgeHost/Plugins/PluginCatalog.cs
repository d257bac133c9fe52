using System.Runtime.Loader;
using JudgeHost.Abstractions;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace JudgeHost.Plugins;

/// <summary>
/// Finds plugins in <c>&lt;dir&gt;/&lt;Name&gt;/&lt;Name&gt;.dll</c>, checks their contract version, loads each into
/// its own load context sharing only the contract, <c>torch.Tensor</c> and the Microsoft.Extensions abstractions,
/// and lets each register its services. A plugin that fails at any step is reported (name, path, reason) and
/// skipped; its registrations are discarded, so nothing is half-loaded.
/// </summary>
public sealed class PluginCatalog
{
    /// <summary>Types whose assemblies keep one identity across the load-context boundary.</summary>
    public static readonly Type[] SharedTypes =
    [
        typeof(IModalityPlugin), typeof(torch.Tensor), typeof(IServiceCollection), typeof(ILogger), typeof(IConfiguration),
    ];

    private readonly List<PluginEntry> _entries = [];
    private readonly Dictionary<AssemblyLoadContext, int> _contexts = [];

    private PluginCatalog(string directory) => Directory = directory;

    /// <summary>The absolute plugin folder scanned.</summary>
    public string Directory { get; }

    /// <summary>Every plugin found, in folder-name order.</summary>
    public IReadOnlyList<PluginEntry> Entries => _entries;

    /// <summary>
    /// Scans <paramref name="directory"/> and registers every loadable plugin into <paramref name="services"/>.
    /// A missing folder yields an empty catalog.
    /// </summary>
    public static PluginCatalog Load(string directory, IServiceCollection services, IConfiguration configuration, ILogger logger)
    {
        var catalog = new PluginCatalog(Path.GetFullPath(directory));
        if (!System.IO.Directory.Exists(catalog.Directory))
        {
            logger.LogDebug("Plugin folder {Directory} does not exist; no plugins loaded.", catalog.Directory);
            return catalog;
        }

        foreach (var folder in System.IO.Directory.GetDirectories(catalog.Directory).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(folder);
            string dll = Path.Combine(folder, name + ".dll");
            if (!File.Exists(dll))
            {
                catalog.Add(new PluginEntry(name, dll, null, null, PluginStatus.Failed,
                    $"the folder has no {name}.dll; a plugin folder must hold an assembly named like the folder"), logger);
                continue;
            }

            catalog.Add(catalog.LoadOne(name, dll, services, configuration), logger);
        }

        return catalog;
    }

    /// <summary>Fills each loaded plugin's modalities from the encoder factories the container resolves.</summary>
    public void DescribeModalities(IServiceProvider provider)
    {
        var byContext = provider.GetServices<IModalityEncoderFactory>()
            .GroupBy(f => AssemblyLoadContext.GetLoadContext(f.GetType().Assembly))
            .ToDictionary(g => g.Key!, g => g.Select(f => f.Modality).Distinct().Order().ToArray());
        foreach (var (context, index) in _contexts)
        {
            if (byContext.TryGetValue(context, out var modalities))
            {
                _entries[index] = _entries[index] with { Modalities = modalities };
            }
        }
    }

    private void Add(PluginEntry entry, ILogger logger)
    {
        _entries.Add(entry);
        if (entry.Status == PluginStatus.Loaded)
        {
            logger.LogDebug("Loaded plugin {Name} from {Path}.", entry.Name, entry.Path);
        }
        else
        {
            logger.LogWarning("Skipped plugin {Name} at {Path}: {Reason}.", entry.Name, entry.Path, entry.Reason);
        }
    }

    private PluginEntry LoadOne(string folderName, string dll, IServiceCollection services, IConfiguration configuration)
    {
        Version? version;
        Version? contract;
        try
        {
            (version, contract) = ContractReference.Read(dll);
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or InvalidOperationException)
        {
            return new PluginEntry(folderName, dll, null, null, PluginStatus.Failed,
                $"the assembly is corrupt or not a .NET assembly ({e.Message.TrimEnd('.')}); rebuild or remove it");
        }

        if (ContractReference.Incompatibility(contract) is { } why)
        {
            return new PluginEntry(folderName, dll, version, contract,
                contract is null ? PluginStatus.Failed : PluginStatus.Incompatible, why);
        }

        try
        {
            var loader = PluginLoader.CreateFromAssemblyFile(dll, SharedTypes, c => c.IsUnloadable = false);
            var assembly = loader.LoadDefaultAssembly();
            var pluginTypes = assembly.GetTypes()
                .Where(t => typeof(IModalityPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                .ToArray();
            if (pluginTypes.Length != 1)
            {
                return new PluginEntry(folderName, dll, version, contract, PluginStatus.Failed,
                    $"it must contain exactly one public non-abstract IModalityPlugin; found {pluginTypes.Length}");
            }

            if (pluginTypes[0].GetConstructor(Type.EmptyTypes) is null)
            {
                return new PluginEntry(folderName, dll, version, contract, PluginStatus.Failed,
                    $"{pluginTypes[0].FullName} has no public parameterless constructor");
            }

            var plugin = (IModalityPlugin)Activator.CreateInstance(pluginTypes[0])!;
            string name = plugin.Name;

            // Register into a scratch collection first: a plugin that throws half-way leaves nothing behind.
            var scratch = new ServiceCollection();
            plugin.ConfigureServices(scratch, configuration.GetSection($"Modalities:{name}"));
            foreach (var descriptor in scratch)
            {
                services.Add(descriptor);
            }

            _contexts[AssemblyLoadContext.GetLoadContext(assembly)!] = _entries.Count;
            return new PluginEntry(name, dll, version, contract, PluginStatus.Loaded, null);
        }
        catch (Exception e)
        {
            return new PluginEntry(folderName, dll, version, contract, PluginStatus.Failed, Describe(e));
        }
    }

    private static string Describe(Exception e)
    {
        while (e is System.Reflection.TargetInvocationException { InnerException: { } inner })
        {
            e = inner;
        }

        return e switch
        {
            System.Reflection.ReflectionTypeLoadException rtle when rtle.LoaderExceptions.FirstOrDefault(x => x is not null) is { } first =>
                $"a dependency could not be loaded ({first.Message.TrimEnd('.')}); ship it in the plugin folder",
            FileNotFoundException fnf =>
                $"a dependency could not be loaded ({fnf.Message.TrimEnd('.')}); ship it in the plugin folder",
            FileLoadException fle => $"a dependency could not be loaded ({fle.Message.TrimEnd('.')})",
            BadImageFormatException bif => $"the assembly or a dependency is corrupt ({bif.Message.TrimEnd('.')})",
            _ => $"it threw {e.GetType().Name} while loading or registering: {e.Message.TrimEnd('.')}",
        };
    }
}

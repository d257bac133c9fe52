using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Plugins;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace JudgeHost.Hosting;

/// <summary>
/// The composed host: configuration (appsettings.json, then <c>--config</c>, then <c>JUDGEHOST_</c> environment
/// variables, then command-line options), validated options, logging and the loaded plugins.
/// </summary>
public sealed class JudgeHostApp : IDisposable
{
    private readonly ServiceProvider _provider;

    private JudgeHostApp(ServiceProvider provider, PluginCatalog catalog, IConfiguration configuration)
    {
        _provider = provider;
        Catalog = catalog;
        Configuration = configuration;
    }

    public IServiceProvider Services => _provider;

    public PluginCatalog Catalog { get; }

    public IConfiguration Configuration { get; }

    /// <summary>Builds the host. Throws <see cref="JudgeHostException"/> for unreadable or invalid configuration.</summary>
    public static JudgeHostApp Create(HostSettings settings, TextWriter log)
    {
        var configuration = BuildConfiguration(settings);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(b => b
            .SetMinimumLevel(settings.Verbose ? LogLevel.Debug : LogLevel.Warning)
            .AddProvider(new TextWriterLoggerProvider(log, settings.Verbose ? LogLevel.Debug : LogLevel.Warning)));
        services.AddOptions<PluginHostOptions>().Bind(configuration.GetSection(PluginHostOptions.Section));
        services.AddSingleton<IValidateOptions<PluginHostOptions>, PluginHostOptionsValidator>();
        services.AddOptions<TorchOptions>().Bind(configuration.GetSection(TorchOptions.Section));
        services.AddSingleton<IValidateOptions<TorchOptions>, TorchOptionsValidator>();

        // Validate options before plugins load, with a throwaway provider over the host's own registrations.
        PluginHostOptions pluginOptions;
        using (var early = services.BuildServiceProvider())
        {
            pluginOptions = Validated<PluginHostOptions>(early);
            _ = Validated<TorchOptions>(early);
            var logger = early.GetRequiredService<ILoggerFactory>().CreateLogger<PluginCatalog>();
            var catalog = PluginCatalog.Load(ResolvePluginDirectory(pluginOptions.Directory), services, configuration, logger);
            services.AddSingleton(catalog);
            var provider = services.BuildServiceProvider();
            try
            {
                catalog.DescribeModalities(provider);
            }
            catch (Exception e)
            {
                provider.Dispose();
                throw new PluginLoadException($"A plugin's encoder factory failed to construct: {e.Message} Run with --verbose and fix or remove the plugin.", e);
            }

            return new JudgeHostApp(provider, catalog, configuration);
        }
    }

    public void Dispose() => _provider.Dispose();

    private static T Validated<T>(IServiceProvider provider)
        where T : class
    {
        try
        {
            return provider.GetRequiredService<IOptions<T>>().Value;
        }
        catch (OptionsValidationException e)
        {
            throw new JudgeHostException($"Invalid configuration: {string.Join(" ", e.Failures)}");
        }
        catch (InvalidOperationException e)
        {
            throw new JudgeHostException($"Invalid configuration for {typeof(T).Name}: {e.Message}");
        }
    }

    private static IConfiguration BuildConfiguration(HostSettings settings)
    {
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        if (settings.ConfigFile is { } file)
        {
            if (!File.Exists(file))
            {
                throw new JudgeHostException($"Configuration file '{file}' does not exist. Pass an existing JSON file to --config.");
            }

            builder.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables("JUDGEHOST_");
        var overrides = new Dictionary<string, string?>();
        if (settings.PluginsDirectory is { } dir)
        {
            overrides[$"{PluginHostOptions.Section}:Directory"] = dir;
        }

        builder.AddInMemoryCollection(overrides);
        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new JudgeHostException($"Configuration could not be read: {e.Message} Fix the JSON in '{settings.ConfigFile ?? "appsettings.json"}'.", e);
        }
    }

    private static string ResolvePluginDirectory(string directory)
    {
        if (Path.IsPathRooted(directory))
        {
            return directory;
        }

        string fromWorkingDir = Path.GetFullPath(directory);
        if (Directory.Exists(fromWorkingDir))
        {
            return fromWorkingDir;
        }

        string fromBase = Path.Combine(AppContext.BaseDirectory, directory);
        return Directory.Exists(fromBase) ? fromBase : fromWorkingDir;
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace JudgeHost.Abstractions;

/// <summary>
/// Entry point of a plugin assembly. The host creates it with its parameterless constructor and calls
/// <see cref="ConfigureServices"/> once, before the service provider is built. Register one
/// <see cref="IModalityEncoderFactory"/> per modality the plugin provides; do no heavy work here (no weight
/// loading, no native calls): a plugin that throws here is reported and skipped.
/// </summary>
public interface IModalityPlugin
{
    /// <summary>Display name of the plugin, e.g. <c>Image</c>.</summary>
    string Name { get; }

    /// <summary>Registers the plugin's services into the host's container.</summary>
    /// <param name="services">The host's service collection.</param>
    /// <param name="configuration">The plugin's own configuration section (<c>Modalities:&lt;Name&gt;</c>).</param>
    void ConfigureServices(IServiceCollection services, IConfiguration configuration);
}

using JudgeHost.Abstractions;
using MissingDependency.Helper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MissingDependencyPlugin;

/// <summary>A test plugin whose Name needs an assembly missing from its folder.</summary>
public sealed class MissingDependencyPlugin : IModalityPlugin
{
    public string Name => HelperName.Value;

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
    }
}

using JudgeHost.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ThrowingPlugin;

/// <summary>A test plugin that registers one service and then throws: the host must discard both.</summary>
public sealed class ThrowingPlugin : IModalityPlugin
{
    public string Name => "Throwing";

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IModalityEncoderFactory, HalfRegisteredFactory>();
        throw new InvalidOperationException("registration failed on purpose");
    }
}

public sealed class HalfRegisteredFactory : IModalityEncoderFactory
{
    public string Modality => "half";

    public IReadOnlyList<string> Families => [];

    public string WeightPrefix => "";

    public IModalityEncoder Create(EncoderContext context) => throw new InvalidOperationException("must never be reached");
}

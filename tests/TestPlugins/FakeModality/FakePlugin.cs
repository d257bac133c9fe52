using JudgeHost.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TorchSharp;

namespace FakeModality;

/// <summary>A test plugin: modality "fake" turns an inline string into one embedding row per character.</summary>
public sealed class FakePlugin : IModalityPlugin
{
    public string Name => "Fake";

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        float scale = float.TryParse(configuration["Scale"], System.Globalization.CultureInfo.InvariantCulture, out float s) ? s : 1f;
        services.AddSingleton<IModalityEncoderFactory>(new FakeEncoderFactory(scale));
    }
}

public sealed class FakeEncoderFactory(float scale) : IModalityEncoderFactory
{
    public string Modality => "fake";

    public IReadOnlyList<string> Families => [];

    public string WeightPrefix => "";

    public IModalityEncoder Create(EncoderContext context) => new FakeEncoder(context, scale);
}

public sealed class FakeEncoder(EncoderContext context, float scale) : IModalityEncoder
{
    public EncodedMedia Encode(MediaItem item, CancellationToken cancellationToken = default)
    {
        string value = item.Value ?? throw new InvalidMediaException($"The fake modality needs an inline value; {item.Describe()} has none.");
        if (value.Length == 0)
        {
            throw new InvalidMediaException($"{item.Describe()} is empty. Give at least one character.");
        }

        // Row i = (code of char i) * scale + column index: easy to check from the host side.
        var codes = torch.tensor(value.Select(c => (float)c).ToArray()).unsqueeze(1);                 // [n, 1]
        var columns = torch.arange(context.HiddenSize, dtype: torch.float32).unsqueeze(0);            // [1, hidden]
        var embeddings = (codes * scale + columns).to(context.DType, context.Device);                  // [n, hidden]
        return new EncodedMedia(embeddings, new PositionLayout.Sequence(value.Length));
    }

    public void Dispose()
    {
    }
}

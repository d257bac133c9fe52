using System.Globalization;
using JudgeHost.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Modalities.Image;

/// <summary>
/// The image modality for Qwen2.5-VL checkpoints and the Qwen2.5-Omni thinker. Configuration section <c>Modalities:Image</c>: <c>MaxImagePixels</c>
/// (decompression-bomb limit, default PIL's 89,478,485), <c>ApplyExifOrientation</c> (default false, as the HF
/// processor), <c>MinPixels</c> / <c>MaxPixels</c> (override the checkpoint's preprocessor_config.json).
/// </summary>
public sealed class ImagePlugin : IModalityPlugin
{
    public string Name => "Image";

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        var settings = new ImagePluginSettings(
            Long(configuration, "MaxImagePixels") ?? ImageDecoderOptions.PillowMaxImagePixels,
            bool.TryParse(configuration["ApplyExifOrientation"], out bool exif) && exif,
            Long(configuration, "MinPixels"),
            Long(configuration, "MaxPixels"));
        services.AddSingleton(settings);
        services.AddSingleton<IModalityEncoderFactory>(Qwen25ImageEncoderFactory.ForQwen25VL(settings));
        services.AddSingleton<IModalityEncoderFactory>(Qwen25ImageEncoderFactory.ForQwen25Omni(settings));
    }

    private static long? Long(IConfiguration configuration, string key) =>
        configuration[key] is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : null;
}

/// <summary>Plugin-wide image settings from configuration.</summary>
public sealed record ImagePluginSettings(long MaxImagePixels, bool ApplyExifOrientation, long? MinPixels, long? MaxPixels);

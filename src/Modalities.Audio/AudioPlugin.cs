using System.Globalization;
using JudgeHost.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Modalities.Audio;

/// <summary>
/// The audio modality for Qwen2.5-Omni checkpoints. Configuration section <c>Modalities:Audio</c>:
/// <c>MaxDurationSeconds</c> (longest audio accepted, checked before decoding; default 600), <c>FfmpegFolder</c>
/// (where ffmpeg and ffprobe are, for formats other than WAV; default: the PATH).
/// </summary>
public sealed class AudioPlugin : IModalityPlugin
{
    public string Name => "Audio";

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        var settings = new AudioPluginSettings
        {
            MaxDurationSeconds = configuration["MaxDurationSeconds"] is { } text
                ? double.Parse(text, CultureInfo.InvariantCulture)
                : AudioPluginSettings.DefaultMaxDurationSeconds,
            FfmpegFolder = configuration["FfmpegFolder"],
        };
        settings.Validate();
        services.AddSingleton(settings);
        services.AddSingleton<IModalityEncoderFactory, Qwen25OmniAudioEncoderFactory>();
    }
}

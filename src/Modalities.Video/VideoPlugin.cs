using System.Globalization;
using JudgeHost.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Modalities.Video;

/// <summary>
/// The video modality for Qwen2.5-VL checkpoints and the Qwen2.5-Omni thinker. Configuration section <c>Modalities:Video</c>: <c>Fps</c> (default 2),
/// <c>MinFrames</c> (4), <c>MaxFrames</c> (768), <c>MinPixels</c> / <c>MaxPixelsPerFrame</c> / <c>TotalPixels</c>
/// (qwen-vl-utils' VIDEO_MIN_PIXELS, VIDEO_MAX_PIXELS, VIDEO_TOTAL_PIXELS), <c>MaxFramePixels</c> (decoded-frame
/// size limit, default 8K UHD), <c>MaxDurationSeconds</c> (default 3600), <c>FfmpegFolder</c> (where ffmpeg and
/// ffprobe are; default: the PATH), <c>ScalerFlags</c> (ffmpeg's <c>-sws_flags</c> for the YUV→RGB conversion,
/// default <c>bilinear</c> as PyAV's <c>to_rgb</c>).
/// </summary>
public sealed class VideoPlugin : IModalityPlugin
{
    public string Name => "Video";

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        var defaults = VideoSamplingOptions.Default;
        var sampling = defaults with
        {
            Fps = Double(configuration, "Fps") ?? defaults.Fps,
            MinFrames = (int?)Long(configuration, "MinFrames") ?? defaults.MinFrames,
            MaxFrames = (int?)Long(configuration, "MaxFrames") ?? defaults.MaxFrames,
            MinPixels = Long(configuration, "MinPixels") ?? defaults.MinPixels,
            MaxPixelsPerFrame = Long(configuration, "MaxPixelsPerFrame") ?? defaults.MaxPixelsPerFrame,
            TotalPixels = Long(configuration, "TotalPixels") ?? defaults.TotalPixels,
        };
        var settings = new VideoPluginSettings
        {
            Sampling = sampling,
            MaxFramePixels = Long(configuration, "MaxFramePixels") ?? VideoPluginSettings.DefaultMaxFramePixels,
            MaxDurationSeconds = Double(configuration, "MaxDurationSeconds") ?? VideoPluginSettings.DefaultMaxDurationSeconds,
            FfmpegFolder = configuration["FfmpegFolder"],
            ScalerFlags = configuration["ScalerFlags"] ?? "bilinear",
        };
        services.AddSingleton(settings);
        services.AddSingleton<IModalityEncoderFactory>(Qwen25VideoEncoderFactory.ForQwen25VL(settings));
        services.AddSingleton<IModalityEncoderFactory>(Qwen25VideoEncoderFactory.ForQwen25Omni(settings));
    }

    private static long? Long(IConfiguration configuration, string key) =>
        configuration[key] is { } text ? long.Parse(text, CultureInfo.InvariantCulture) : null;

    private static double? Double(IConfiguration configuration, string key) =>
        configuration[key] is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : null;
}

/// <summary>Plugin-wide video settings from configuration.</summary>
public sealed record VideoPluginSettings
{
    /// <summary>7680 x 4320.</summary>
    public const long DefaultMaxFramePixels = 7680L * 4320;

    public const double DefaultMaxDurationSeconds = 3600;

    public VideoSamplingOptions Sampling { get; init; } = VideoSamplingOptions.Default;

    public long MaxFramePixels { get; init; } = DefaultMaxFramePixels;

    public double MaxDurationSeconds { get; init; } = DefaultMaxDurationSeconds;

    public string? FfmpegFolder { get; init; }

    public string ScalerFlags { get; init; } = "bilinear";
}

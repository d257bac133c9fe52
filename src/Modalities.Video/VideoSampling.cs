using System.Globalization;
using JudgeHost.Abstractions;
using Modalities.Image;

namespace Modalities.Video;

/// <summary>
/// qwen-vl-utils' frame sampling and per-frame pixel budget for Qwen2.5-VL video (MODEL_SPEC §3.3), value for value:
/// <c>smart_nframes</c>, the <c>torch.linspace(0, total - 1, n).round()</c> frame indices (float32, as torch computes
/// them), and <c>fetch_video</c>'s <c>max_pixels = max(min(VIDEO_MAX_PIXELS, total_pixels / nframes * 2),
/// int(min_pixels * 1.05))</c> followed by <c>smart_resize</c> with factor 28.
/// </summary>
public static class VideoSampling
{
    /// <summary>FRAME_FACTOR: frame counts are multiples of the temporal patch size.</summary>
    public const int FrameFactor = 2;

    /// <summary>
    /// <c>smart_nframes</c>: with <see cref="VideoSamplingOptions.Frames"/> given, it rounded to a multiple of 2;
    /// otherwise <c>total / video_fps * fps</c> clamped to [ceil₂(min_frames), floor₂(min(max_frames, total))] and
    /// rounded (half to even) to a multiple of 2.
    /// </summary>
    /// <exception cref="InvalidMediaException">The result is not in [2, total] (a video with fewer than 2 frames).</exception>
    public static int FrameCount(int totalFrames, double videoFps, VideoSamplingOptions options, string source)
    {
        ArgumentNullException.ThrowIfNull(options);
        double nframes;
        if (options.Frames is int fixedCount)
        {
            nframes = RoundByFactor(fixedCount, FrameFactor);
        }
        else
        {
            if (!(videoFps > 0) || double.IsInfinity(videoFps))
            {
                throw new InvalidMediaException($"Video '{source}' reports a frame rate of {videoFps.ToString(CultureInfo.InvariantCulture)}; it cannot be sampled by fps. Re-encode it or give nframes.");
            }

            double minFrames = Math.Ceiling(options.MinFrames / (double)FrameFactor) * FrameFactor;
            double maxFrames = Math.Floor(Math.Min(options.MaxFrames, totalFrames) / (double)FrameFactor) * FrameFactor;
            nframes = totalFrames / videoFps * options.Fps;
            nframes = Math.Min(Math.Max(nframes, minFrames), maxFrames);
            nframes = RoundByFactor(nframes, FrameFactor);
        }

        if (!(nframes >= FrameFactor && nframes <= totalFrames))
        {
            throw new InvalidMediaException(string.Create(
                CultureInfo.InvariantCulture,
                $"Video '{source}' has {totalFrames} decodable frame(s); sampling needs between {FrameFactor} and {totalFrames} frames but the rules give {nframes}. Use a longer video (at least {FrameFactor} frames)."));
        }

        return (int)nframes;
    }

    /// <summary>
    /// <c>torch.linspace(0, total - 1, n).round().long()</c> as torch's CPU kernel computes it in float32: step
    /// <c>(end - start) / (n - 1)</c>, the first half <c>start + step * i</c>, the second half
    /// <c>end - step * (n - 1 - i)</c>, then round half to even.
    /// </summary>
    public static int[] FrameIndices(int totalFrames, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var indices = new int[count];
        float start = 0f;
        float end = totalFrames - 1;
        if (count == 1)
        {
            return indices;
        }

        float step = (end - start) / (count - 1);
        int halfway = count / 2;
        for (int i = 0; i < count; i++)
        {
            float value = i < halfway ? start + (step * i) : end - (step * (count - i - 1));
            indices[i] = (int)MathF.Round(value, MidpointRounding.ToEven);
        }

        return indices;
    }

    /// <summary>The resized frame size: <c>fetch_video</c>'s pixel budget then <c>smart_resize</c>.</summary>
    public static (int Height, int Width) FrameSize(int height, int width, int frames, VideoSamplingOptions options, string source)
    {
        ArgumentNullException.ThrowIfNull(options);
        double minPixels = options.MinPixels;
        double maxPixels = Math.Max(Math.Min(options.MaxPixelsPerFrame, options.TotalPixels / (double)frames * FrameFactor), Math.Truncate(minPixels * 1.05));
        if (options.MaxPixels is long requested)
        {
            maxPixels = Math.Min(requested, maxPixels);
        }

        return Qwen2VLImageProcessor.SmartResize(height, width, options.Factor, minPixels, maxPixels, source);
    }

    /// <summary><c>sample_fps = nframes / max(total_frames, 1e-6) * video_fps</c>.</summary>
    public static double SampleFps(int frames, int totalFrames, double videoFps) => frames / Math.Max(totalFrames, 1e-6) * videoFps;

    private static double RoundByFactor(double number, int factor) => Math.Round(number / factor, MidpointRounding.ToEven) * factor;
}

/// <summary>
/// Sampling settings with qwen-vl-utils' defaults: <c>fps</c> 2, <c>min_frames</c> 4, <c>max_frames</c> 768,
/// <c>VIDEO_MIN_PIXELS</c> 128·28², <c>VIDEO_MAX_PIXELS</c> 768·28², <c>VIDEO_TOTAL_PIXELS</c> int(128000·28²·0.9).
/// Per request (media attributes): <c>fps</c>, <c>nframes</c>, <c>min_frames</c>, <c>max_frames</c>, <c>min_pixels</c>,
/// <c>max_pixels</c>, <c>total_pixels</c>.
/// </summary>
public sealed record VideoSamplingOptions
{
    public static VideoSamplingOptions Default { get; } = new();

    /// <summary>Frames per second to sample (default 2).</summary>
    public double Fps { get; init; } = 2.0;

    /// <summary>A fixed frame count instead of <see cref="Fps"/> (rounded to a multiple of 2).</summary>
    public int? Frames { get; init; }

    public int MinFrames { get; init; } = 4;

    public int MaxFrames { get; init; } = 768;

    public long MinPixels { get; init; } = 128 * 28 * 28;

    /// <summary>VIDEO_MAX_PIXELS: the per-frame cap before the total budget is shared out.</summary>
    public long MaxPixelsPerFrame { get; init; } = 768 * 28 * 28;

    /// <summary>VIDEO_TOTAL_PIXELS: the budget shared by all sampled frames (two frames per temporal patch).</summary>
    public long TotalPixels { get; init; } = (long)(128000 * 28 * 28 * 0.9);

    /// <summary>An explicit per-frame <c>max_pixels</c> (never above the shared budget).</summary>
    public long? MaxPixels { get; init; }

    /// <summary>Resize factor: patch_size * merge_size.</summary>
    public int Factor { get; init; } = 28;

    /// <summary>Applies a request's media attributes.</summary>
    /// <exception cref="InvalidMediaException">An attribute is not a positive number.</exception>
    public VideoSamplingOptions With(MediaItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var result = this with
        {
            Fps = Number(item, "fps") ?? Fps,
            Frames = (int?)Number(item, "nframes") ?? Frames,
            MinFrames = (int?)Number(item, "min_frames") ?? MinFrames,
            MaxFrames = (int?)Number(item, "max_frames") ?? MaxFrames,
            MinPixels = (long?)Number(item, "min_pixels") ?? MinPixels,
            MaxPixels = (long?)Number(item, "max_pixels") ?? MaxPixels,
            TotalPixels = (long?)Number(item, "total_pixels") ?? TotalPixels,
        };
        if (item.Attributes.ContainsKey("fps") && item.Attributes.ContainsKey("nframes"))
        {
            throw new InvalidMediaException($"{item.Describe()}: give either fps or nframes, not both.");
        }

        return result;
    }

    private static double? Number(MediaItem item, string key)
    {
        if (!item.Attributes.TryGetValue(key, out string? text))
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0 && double.IsFinite(value)
            ? value
            : throw new InvalidMediaException($"{item.Describe()}: attribute {key} '{text}' is not a positive number.");
    }
}

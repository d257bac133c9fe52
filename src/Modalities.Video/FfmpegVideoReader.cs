using System.Globalization;
using System.Text.Json;
using FFMpegCore;
using FFMpegCore.Exceptions;
using FFMpegCore.Pipes;
using JudgeHost.Abstractions;
using Modalities.Shared;

namespace Modalities.Video;

/// <summary>What ffprobe says about a file's first video stream.</summary>
/// <param name="Width">Coded width (before any rotation; the reference readers ignore rotation too).</param>
/// <param name="Height">Coded height.</param>
/// <param name="AverageFps">avg_frame_rate: what decord's <c>get_avg_fps()</c> and torchvision's <c>video_fps</c> report.</param>
/// <param name="FrameCountHint">The container's nb_frames, or duration × fps; the decoded count is what counts.</param>
/// <param name="Codec">The codec name.</param>
public sealed record VideoProbe(int Width, int Height, double AverageFps, int FrameCountHint, string Codec);

/// <summary>Sampled frames of one video, already resized, and the numbers the model needs.</summary>
/// <param name="Frames">Row-major RGB frames, <see cref="Width"/> x <see cref="Height"/>, in time order.</param>
/// <param name="Width">Resized width (a multiple of 28).</param>
/// <param name="Height">Resized height.</param>
/// <param name="TotalFrames">Decodable frames in the file.</param>
/// <param name="VideoFps">The stream's average frame rate.</param>
/// <param name="Indices">The sampled frame indices.</param>
/// <param name="SampleFps">qwen-vl-utils' <c>sample_fps</c>; seconds per temporal patch = 2 / SampleFps.</param>
public sealed record SampledVideo(IReadOnlyList<byte[]> Frames, int Width, int Height, int TotalFrames, double VideoFps, IReadOnlyList<int> Indices, double SampleFps);

/// <summary>
/// Reads videos through FFMpegCore and the system's ffmpeg: probes the first video stream, decodes every frame to
/// RGB24 (<c>-noautorotate -fps_mode passthrough</c>: each coded frame exactly once, no rotation, as decord and
/// torchvision.io read them), keeps the frames qwen-vl-utils samples and resizes each as it arrives, so memory holds
/// only the sampled, resized frames. If the decoded frame count differs from the container's, the indices are
/// recomputed from the true count and the file is decoded again.
/// </summary>
public sealed class FfmpegVideoReader(VideoPluginSettings settings)
{
    /// <summary>Probes <paramref name="path"/>.</summary>
    public VideoProbe Probe(string path, string source)
    {
        var analysis = FfmpegTools.Analyse(path, Options(), why => $"Video '{source}' cannot be read by ffprobe ({why}). Check that it is a complete video file.");

        var stream = analysis.PrimaryVideoStream
            ?? throw new InvalidMediaException($"Video '{source}' has no video stream. Give a video file (MP4, WebM, MKV, AVI, ...).");
        int width = stream.Width ?? 0;
        int height = stream.Height ?? 0;
        if (width < 1 || height < 1)
        {
            throw new InvalidMediaException($"Video '{source}' reports a {width}x{height} picture; it cannot be decoded.");
        }

        if ((long)width * height > settings.MaxFramePixels)
        {
            throw new InvalidMediaException(string.Create(
                CultureInfo.InvariantCulture,
                $"Video '{source}' is {width}x{height} = {(long)width * height} pixels per frame, above the limit of {settings.MaxFramePixels} (Modalities:Video:MaxFramePixels). Downscale it or raise the limit."));
        }

        double fps = stream.AverageFrameRate;
        if (!(fps > 0) || double.IsInfinity(fps))
        {
            fps = stream.RealFrameRate;
        }

        var duration = stream.Duration > TimeSpan.Zero ? stream.Duration : analysis.Duration;
        if (duration.TotalSeconds > settings.MaxDurationSeconds)
        {
            throw new InvalidMediaException(string.Create(
                CultureInfo.InvariantCulture,
                $"Video '{source}' lasts {duration.TotalSeconds:0.#} s, above the limit of {settings.MaxDurationSeconds} s (Modalities:Video:MaxDurationSeconds). Cut it or raise the limit."));
        }

        int hint = FrameCountFromContainer(analysis, stream.Index) ?? (int)Math.Round(duration.TotalSeconds * fps);
        return new VideoProbe(width, height, fps, hint, stream.CodecName ?? "unknown");
    }

    /// <summary>Samples and resizes the frames of one video.</summary>
    public SampledVideo Read(string path, VideoSamplingOptions sampling, string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        if (!File.Exists(path))
        {
            throw new InvalidMediaException($"Video '{source}' does not exist. Check the path.");
        }

        if (new FileInfo(path).Length == 0)
        {
            throw new InvalidMediaException($"Video '{source}' is empty (0 bytes).");
        }

        var probe = Probe(path, source);
        int total = Math.Max(probe.FrameCountHint, 0);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            // A wrong hint (no nb_frames in the container) costs one more decode with the true count.
            int frames = total >= VideoSampling.FrameFactor ? VideoSampling.FrameCount(total, probe.AverageFps, sampling, source) : 0;
            int[] indices = frames > 0 ? VideoSampling.FrameIndices(total, frames) : [];
            (int height, int width) = frames > 0 ? VideoSampling.FrameSize(probe.Height, probe.Width, frames, sampling, source) : (0, 0);
            var kept = new byte[indices.Length][];
            int decoded = Decode(path, probe, source, (index, rgb) =>
            {
                for (int k = 0; k < indices.Length; k++)
                {
                    if (indices[k] == index)
                    {
                        kept[k] ??= TorchvisionResize.Bicubic(rgb, probe.Width, probe.Height, width, height);
                    }
                }
            }, cancellationToken);

            if (decoded == total && frames > 0)
            {
                return new SampledVideo(kept, width, height, total, probe.AverageFps, indices, VideoSampling.SampleFps(frames, total, probe.AverageFps));
            }

            if (decoded < VideoSampling.FrameFactor)
            {
                throw new InvalidMediaException(decoded == 0
                    ? $"Video '{source}' has no decodable frames. Check that the file is complete and its codec is supported by ffmpeg."
                    : $"Video '{source}' has only {decoded} decodable frame; at least {VideoSampling.FrameFactor} are needed.");
            }

            total = decoded;
        }

        throw new InvalidMediaException($"Video '{source}' decodes to a different number of frames on every pass; it cannot be sampled reliably.");
    }

    private int Decode(string path, VideoProbe probe, string source, Action<int, byte[]> onFrame, CancellationToken cancellationToken)
    {
        var sink = new RawFrameSink(checked(probe.Width * probe.Height * 3), onFrame);
        try
        {
            FfmpegTools.Run(
                Options(),
                ["-noautorotate", "-i", path, "-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough", "-sws_flags", settings.ScalerFlags, "-pix_fmt", "rgb24"],
                sink,
                cancellationToken);
        }
        catch (Exception e) when (e is FFMpegException or IOException)
        {
            throw new InvalidMediaException($"Video '{source}' cannot be decoded by ffmpeg after {sink.Frames} frame(s): {FfmpegTools.LastLine(e.Message)}. Check that the file is complete; re-encode it if needed.", e);
        }

        return sink.Frames;
    }

    private FFOptions Options() => FfmpegTools.Options(settings.FfmpegFolder, "video", "Modalities:Video:FfmpegFolder");

    private static int? FrameCountFromContainer(IMediaAnalysis analysis, int streamIndex)
    {
        var stream = analysis.Raw?.Streams?.FirstOrDefault(s => s.Index == streamIndex);
        if (stream?.ExtensionData is { } extra && extra.TryGetValue("nb_frames", out var value))
        {
            string? text = value.ValueKind == JsonValueKind.String ? value.GetString() : value.ToString();
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int count) && count > 0)
            {
                return count;
            }
        }

        return null;
    }

    /// <summary>Reads fixed-size RGB24 frames from ffmpeg's stdout and hands each to a callback with its index.</summary>
    private sealed class RawFrameSink(int frameBytes, Action<int, byte[]> onFrame) : IPipeSink
    {
        public int Frames { get; private set; }

        public string GetStreamArguments() => "-f rawvideo";

        public async Task ReadAsync(Stream inputStream, CancellationToken cancellationToken)
        {
            var buffer = new byte[frameBytes];
            while (true)
            {
                int read = await inputStream.ReadAtLeastAsync(buffer, frameBytes, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read < frameBytes)
                {
                    return; // end of stream (a trailing partial frame cannot happen with rawvideo unless ffmpeg died)
                }

                onFrame(Frames, buffer);
                Frames++;
            }
        }
    }
}

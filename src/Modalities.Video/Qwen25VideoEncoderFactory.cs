using JudgeHost.Abstractions;
using Modalities.Image;
using static TorchSharp.torch;

namespace Modalities.Video;

/// <summary>Encodes videos for Qwen2.5-VL (<c>visual.*</c> weights) or the Qwen2.5-Omni thinker (<c>thinker.visual.*</c>):
/// ffmpeg decode, qwen-vl-utils sampling and resize, Qwen2-VL normalize and temporal patchify, the vision tower.</summary>
public sealed class Qwen25VideoEncoderFactory(VideoPluginSettings settings, string family, string weightPrefix) : IModalityEncoderFactory
{
    public static Qwen25VideoEncoderFactory ForQwen25VL(VideoPluginSettings settings) => new(settings, "qwen2_5_vl", "visual.");

    public static Qwen25VideoEncoderFactory ForQwen25Omni(VideoPluginSettings settings) => new(settings, "qwen2_5_omni", "thinker.visual.");

    public string Modality => "video";

    public IReadOnlyList<string> Families => [family];

    public string WeightPrefix => weightPrefix;

    public IModalityEncoder Create(EncoderContext context)
    {
        // Normalization (mean, std, rescale) and patch sizes come from the checkpoint's processor config; the pixel
        // budget for video is qwen-vl-utils' (settings), not the image min/max pixels.
        var (tower, image) = Qwen25TowerLoading.Load(context);
        return new Qwen25VideoEncoder(tower, image, settings, context.DType, context.Device);
    }
}

/// <summary>One video → <c>[t·h·w/4, hidden]</c> embeddings laid out as a (t, h/2, w/2) grid with seconds per temporal patch.</summary>
public sealed class Qwen25VideoEncoder(Qwen25VisionTower tower, Qwen2VLImageOptions image, VideoPluginSettings settings, ScalarType dtype, Device device) : IModalityEncoder, IMediaPreprocessor
{
    private readonly FfmpegVideoReader _reader = new(settings);

    /// <summary>HF's <c>pixel_values_videos [N, 1176]</c> (float32), <c>video_grid_thw [1, 3]</c> (int64) and
    /// <c>second_per_grid_ts [1]</c> (float32) for one video.</summary>
    public IReadOnlyDictionary<string, Tensor> Preprocess(MediaItem item)
    {
        var (features, seconds) = Features(item, CancellationToken.None);
        return new Dictionary<string, Tensor>
        {
            ["pixel_values_videos"] = tensor(features.PixelValues).view(features.Rows, features.Columns),
            ["video_grid_thw"] = tensor(new long[] { features.GridT, features.GridH, features.GridW }).view(1, 3),
            ["second_per_grid_ts"] = tensor(new[] { (float)seconds }),
        };
    }

    public EncodedMedia Encode(MediaItem item, CancellationToken cancellationToken = default)
    {
        var (features, seconds) = Features(item, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        var pixels = tensor(features.PixelValues).view(features.Rows, features.Columns);
        var embeddings = tower.forward(pixels, [(features.GridT, features.GridH, features.GridW)]);
        int merge = tower.Config.SpatialMergeSize;
        var result = embeddings.to(dtype, device).MoveToOuterDisposeScope();
        return new EncodedMedia(result, new PositionLayout.Grid(features.GridT, features.GridH / merge, features.GridW / merge, seconds));
    }

    public void Dispose() => tower.Dispose();

    /// <summary>The Qwen2-VL processor's rescale, normalize and temporal patchify of sampled frames:
    /// <c>pixel_values_videos</c> and <c>video_grid_thw</c>.</summary>
    public static Qwen2VLImageFeatures Patchify(SampledVideo video, Qwen2VLImageOptions image)
    {
        ArgumentNullException.ThrowIfNull(video);
        ArgumentNullException.ThrowIfNull(image);
        return Qwen2VLImageProcessor.Patchify(video.Frames, video.Height, video.Width, Qwen2VLImageProcessor.NormalizationTable(image), image);
    }

    private (Qwen2VLImageFeatures Features, double SecondsPerGrid) Features(MediaItem item, CancellationToken cancellationToken)
    {
        string path = item.Path ?? throw new InvalidMediaException($"{item.Describe()} has no path; videos are read from files.");
        var sampling = settings.Sampling.With(item) with { Factor = image.Factor };
        var video = _reader.Read(path, sampling, path, cancellationToken);
        var features = Patchify(video, image);

        // Qwen2.5-VL processor: second_per_grid_ts = temporal_patch_size / fps, fps = qwen-vl-utils' sample_fps.
        return (features, image.TemporalPatchSize / video.SampleFps);
    }
}

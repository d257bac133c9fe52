using System.Globalization;
using JudgeHost.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Modalities.Image;

/// <summary>
/// Encodes images for Qwen2.5-VL (<c>visual.*</c> weights) or the Qwen2.5-Omni thinker (<c>thinker.visual.*</c>, the
/// same tower with split q/k/v): decode, Qwen2-VL preprocessing, the vision tower.
/// </summary>
public sealed class Qwen25ImageEncoderFactory(ImagePluginSettings settings, string family, string weightPrefix) : IModalityEncoderFactory
{
    public static Qwen25ImageEncoderFactory ForQwen25VL(ImagePluginSettings settings) => new(settings, "qwen2_5_vl", "visual.");

    public static Qwen25ImageEncoderFactory ForQwen25Omni(ImagePluginSettings settings) => new(settings, "qwen2_5_omni", "thinker.visual.");

    public string Modality => "image";

    public IReadOnlyList<string> Families => [family];

    public string WeightPrefix => weightPrefix;

    public IModalityEncoder Create(EncoderContext context)
    {
        var (tower, options) = Qwen25TowerLoading.Load(context);
        options = options with
        {
            MinPixels = settings.MinPixels ?? options.MinPixels,
            MaxPixels = settings.MaxPixels ?? options.MaxPixels,
        };
        return new Qwen25ImageEncoder(tower, options, settings, context.DType, context.Device);
    }
}

/// <summary>One image → <c>[t·h·w/4, hidden]</c> embeddings laid out as a (1, h/2, w/2) grid.</summary>
public sealed class Qwen25ImageEncoder(Qwen25VisionTower tower, Qwen2VLImageOptions options, ImagePluginSettings settings, ScalarType dtype, Device device) : IModalityEncoder, IMediaPreprocessor
{
    /// <summary>HF's <c>pixel_values [N, 1176]</c> (float32) and <c>image_grid_thw [1, 3]</c> (int64) for one image.</summary>
    public IReadOnlyDictionary<string, Tensor> Preprocess(MediaItem item)
    {
        var features = Features(item);
        return new Dictionary<string, Tensor>
        {
            ["pixel_values"] = tensor(features.PixelValues).view(features.Rows, features.Columns),
            ["image_grid_thw"] = tensor(new long[] { features.GridT, features.GridH, features.GridW }).view(1, 3),
        };
    }

    public EncodedMedia Encode(MediaItem item, CancellationToken cancellationToken = default)
    {
        var features = Features(item);
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        var pixels = tensor(features.PixelValues).view(features.Rows, features.Columns);                   // [N, 1176]
        var embeddings = tower.forward(pixels, [(features.GridT, features.GridH, features.GridW)]);          // [N/4, hidden]
        int merge = tower.Config.SpatialMergeSize;
        var result = embeddings.to(dtype, device).MoveToOuterDisposeScope();
        return new EncodedMedia(result, new PositionLayout.Grid(features.GridT, features.GridH / merge, features.GridW / merge, 0));
    }

    public void Dispose() => tower.Dispose();

    private Qwen2VLImageFeatures Features(MediaItem item)
    {
        string path = item.Path ?? throw new InvalidMediaException($"{item.Describe()} has no path; images are read from files.");
        var image = ImageDecoder.DecodeFile(path, new ImageDecoderOptions { MaxPixels = settings.MaxImagePixels, ApplyExifOrientation = settings.ApplyExifOrientation });
        var itemOptions = options with
        {
            MinPixels = Attribute(item, "min_pixels") ?? options.MinPixels,
            MaxPixels = Attribute(item, "max_pixels") ?? options.MaxPixels,
        };
        return Qwen2VLImageProcessor.Preprocess(image, itemOptions);
    }

    private static long? Attribute(MediaItem item, string key)
    {
        if (!item.Attributes.TryGetValue(key, out string? text))
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) && value > 0
            ? value
            : throw new InvalidMediaException($"{item.Describe()}: attribute {key} '{text}' is not a positive integer.");
    }
}

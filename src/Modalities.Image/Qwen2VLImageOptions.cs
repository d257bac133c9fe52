using System.Text.Json;
using JudgeHost.Abstractions;

namespace Modalities.Image;

/// <summary>
/// Settings of transformers' <c>Qwen2VLImageProcessor</c>, as in a checkpoint's <c>preprocessor_config.json</c>.
/// Defaults are the class defaults HF uses when a key is absent (min 56*56, max 28*28*1280 pixels); released
/// Qwen2-VL / Qwen2.5-VL checkpoints set <c>max_pixels</c> = 12845056, so load the file with
/// <see cref="FromPreprocessorConfig"/>. Override per request with <c>with { MaxPixels = ... }</c>.
/// </summary>
public sealed record Qwen2VLImageOptions
{
    /// <summary>transformers' OPENAI_CLIP_MEAN.</summary>
    public static readonly IReadOnlyList<double> OpenAIClipMean = [0.48145466, 0.4578275, 0.40821073];

    /// <summary>transformers' OPENAI_CLIP_STD.</summary>
    public static readonly IReadOnlyList<double> OpenAIClipStd = [0.26862954, 0.26130258, 0.27577711];

    /// <summary>HF's class defaults.</summary>
    public static Qwen2VLImageOptions Default { get; } = new();

    /// <summary>Lower pixel budget of smart_resize (<c>min_pixels</c> / <c>size.shortest_edge</c>).</summary>
    public long MinPixels { get; init; } = 56 * 56;

    /// <summary>Upper pixel budget of smart_resize (<c>max_pixels</c> / <c>size.longest_edge</c>).</summary>
    public long MaxPixels { get; init; } = 28 * 28 * 1280;

    /// <summary>Spatial patch size (<c>patch_size</c>).</summary>
    public int PatchSize { get; init; } = 14;

    /// <summary>Frames per temporal patch (<c>temporal_patch_size</c>); a still image is repeated this many times.</summary>
    public int TemporalPatchSize { get; init; } = 2;

    /// <summary>Patches merged per side into one LLM token (<c>merge_size</c>).</summary>
    public int MergeSize { get; init; } = 2;

    /// <summary>Per-channel mean (<c>image_mean</c>); cast to float32 before use, as numpy does.</summary>
    public IReadOnlyList<double> ImageMean { get; init; } = OpenAIClipMean;

    /// <summary>Per-channel standard deviation (<c>image_std</c>); cast to float32 before use.</summary>
    public IReadOnlyList<double> ImageStd { get; init; } = OpenAIClipStd;

    /// <summary>Rescale factor (<c>rescale_factor</c>), applied in float64 then cast to float32.</summary>
    public double RescaleFactor { get; init; } = 1.0 / 255.0;

    /// <summary>Resize with smart_resize and Pillow BICUBIC (<c>do_resize</c>).</summary>
    public bool DoResize { get; init; } = true;

    /// <summary>Multiply by <see cref="RescaleFactor"/> (<c>do_rescale</c>).</summary>
    public bool DoRescale { get; init; } = true;

    /// <summary>Subtract the mean and divide by the std (<c>do_normalize</c>).</summary>
    public bool DoNormalize { get; init; } = true;

    /// <summary>smart_resize's factor: <c>patch_size * merge_size</c> (28).</summary>
    public int Factor => PatchSize * MergeSize;

    /// <summary>Reads a checkpoint's <c>preprocessor_config.json</c>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Options with every key present in the file applied over the class defaults.</returns>
    /// <exception cref="CorruptCheckpointException">The file is missing, not JSON, or holds values this port cannot honour.</exception>
    public static Qwen2VLImageOptions FromPreprocessorConfig(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CorruptCheckpointException($"Preprocessor config '{path}' cannot be read: {ex.Message} Check the checkpoint folder.", ex);
        }

        return FromPreprocessorConfigJson(json, path);
    }

    /// <summary>
    /// Parses <c>preprocessor_config.json</c> text. Accepts the released files' <c>min_pixels</c> / <c>max_pixels</c>,
    /// newer transformers' <c>size: {shortest_edge, longest_edge}</c> and the oldest <c>size: {min_pixels, max_pixels}</c>;
    /// top-level <c>min_pixels</c> / <c>max_pixels</c> win over <c>size</c>, as in the HF constructor.
    /// </summary>
    /// <param name="json">The file's text.</param>
    /// <param name="source">Its path, for messages.</param>
    /// <returns>The options.</returns>
    /// <exception cref="CorruptCheckpointException">Not JSON, wrong types, or values this port cannot honour.</exception>
    public static Qwen2VLImageOptions FromPreprocessorConfigJson(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CorruptCheckpointException($"Preprocessor config '{source}' is not a JSON object. Restore the checkpoint's file.");
            }

            var o = new Qwen2VLImageOptions();
            if (root.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Object)
            {
                if (size.TryGetProperty("shortest_edge", out var se))
                {
                    o = o with { MinPixels = se.GetInt64() };
                }
                else if (size.TryGetProperty("min_pixels", out var mn))
                {
                    o = o with { MinPixels = mn.GetInt64() };
                }

                if (size.TryGetProperty("longest_edge", out var le))
                {
                    o = o with { MaxPixels = le.GetInt64() };
                }
                else if (size.TryGetProperty("max_pixels", out var mx))
                {
                    o = o with { MaxPixels = mx.GetInt64() };
                }
            }

            if (Present(root, "min_pixels", out var minPixels))
            {
                o = o with { MinPixels = minPixels.GetInt64() };
            }

            if (Present(root, "max_pixels", out var maxPixels))
            {
                o = o with { MaxPixels = maxPixels.GetInt64() };
            }

            if (Present(root, "patch_size", out var patch))
            {
                o = o with { PatchSize = patch.GetInt32() };
            }

            if (Present(root, "temporal_patch_size", out var temporal))
            {
                o = o with { TemporalPatchSize = temporal.GetInt32() };
            }

            if (Present(root, "merge_size", out var merge))
            {
                o = o with { MergeSize = merge.GetInt32() };
            }

            if (Present(root, "image_mean", out var mean))
            {
                o = o with { ImageMean = mean.EnumerateArray().Select(e => e.GetDouble()).ToArray() };
            }

            if (Present(root, "image_std", out var std))
            {
                o = o with { ImageStd = std.EnumerateArray().Select(e => e.GetDouble()).ToArray() };
            }

            if (Present(root, "rescale_factor", out var rescale))
            {
                o = o with { RescaleFactor = rescale.GetDouble() };
            }

            if (Present(root, "do_resize", out var doResize))
            {
                o = o with { DoResize = doResize.GetBoolean() };
            }

            if (Present(root, "do_rescale", out var doRescale))
            {
                o = o with { DoRescale = doRescale.GetBoolean() };
            }

            if (Present(root, "do_normalize", out var doNormalize))
            {
                o = o with { DoNormalize = doNormalize.GetBoolean() };
            }

            if (Present(root, "resample", out var resample) && resample.GetInt32() != 3)
            {
                throw new CorruptCheckpointException(
                    $"Preprocessor config '{source}' asks for resample={resample.GetInt32()}; only 3 (BICUBIC, what every Qwen2-VL checkpoint uses) is implemented. Set it to 3.");
            }

            if (Present(root, "do_convert_rgb", out var convert) && !convert.GetBoolean())
            {
                throw new CorruptCheckpointException(
                    $"Preprocessor config '{source}' sets do_convert_rgb=false; images are always converted to RGB here. Remove the key.");
            }

            string? problem = o.Check();
            return problem is null
                ? o
                : throw new CorruptCheckpointException($"Preprocessor config '{source}': {problem} Restore the checkpoint's file.");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new CorruptCheckpointException(
                $"Preprocessor config '{source}' is not valid: {ex.Message} Restore the checkpoint's file.", ex);
        }
    }

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        string? problem = Check();
        if (problem is not null)
        {
            throw new ArgumentException(problem);
        }
    }

    /// <summary>Null when the options are usable, else what is wrong.</summary>
    internal string? Check()
    {
        if (MinPixels < 1 || MaxPixels < 1)
        {
            return $"min_pixels ({MinPixels}) and max_pixels ({MaxPixels}) must be positive.";
        }

        if (PatchSize < 1 || TemporalPatchSize < 1 || MergeSize < 1)
        {
            return $"patch_size ({PatchSize}), temporal_patch_size ({TemporalPatchSize}) and merge_size ({MergeSize}) must be positive.";
        }

        if (ImageMean is null || ImageStd is null || ImageMean.Count != 3 || ImageStd.Count != 3)
        {
            return $"image_mean and image_std must have 3 values (got {ImageMean?.Count ?? 0} and {ImageStd?.Count ?? 0}).";
        }

        return ImageStd.Any(s => s == 0.0 || !double.IsFinite(s)) || ImageMean.Any(m => !double.IsFinite(m)) || !double.IsFinite(RescaleFactor)
            ? "image_mean, image_std and rescale_factor must be finite and image_std non-zero."
            : null;
    }

    private static bool Present(JsonElement root, string name, out JsonElement value) =>
        root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
}

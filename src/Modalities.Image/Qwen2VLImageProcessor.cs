using System.Globalization;
using JudgeHost.Abstractions;

namespace Modalities.Image;

/// <summary>
/// Mirrors transformers' <c>Qwen2VLImageProcessor</c> (the "slow" PIL/numpy path, <c>use_fast=False</c>) for one
/// image, value for value (MODEL_SPEC §3.2): smart_resize (float64, round half to even), Pillow BICUBIC resize on
/// uint8, rescale <c>float32(float64(x) * rescale_factor)</c>, normalize <c>(x - mean) / std</c> in float32,
/// channels first, the frame repeated to <c>temporal_patch_size</c>, then the patchify reshape/transpose.
/// </summary>
public static class Qwen2VLImageProcessor
{
    /// <summary>
    /// transformers' <c>smart_resize</c> (current version: no minimum-size check, <c>max(factor, ·)</c> guard when
    /// shrinking): both sides a multiple of <paramref name="factor"/>, pixels within [min, max], aspect kept.
    /// </summary>
    /// <param name="height">Source height.</param>
    /// <param name="width">Source width.</param>
    /// <param name="factor">patch_size * merge_size (28).</param>
    /// <param name="minPixels">min_pixels.</param>
    /// <param name="maxPixels">max_pixels.</param>
    /// <param name="source">The image's name for messages.</param>
    /// <returns>The resized (height, width).</returns>
    /// <exception cref="InvalidMediaException">Aspect ratio above 200, or a result with a zero side.</exception>
    public static (int Height, int Width) SmartResize(int height, int width, int factor, long minPixels, long maxPixels, string source = "image") =>
        SmartResize(height, width, factor, (double)minPixels, maxPixels, source);

    /// <summary><see cref="SmartResize(int, int, int, long, long, string)"/> with fractional pixel limits (qwen-vl-utils'
    /// per-frame video budget <c>total_pixels / nframes * 2</c> is a Python float).</summary>
    public static (int Height, int Width) SmartResize(int height, int width, int factor, double minPixels, double maxPixels, string source = "image")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        double aspect = (double)Math.Max(height, width) / Math.Min(height, width);
        if (aspect > 200)
        {
            throw new InvalidMediaException(string.Create(
                CultureInfo.InvariantCulture,
                $"Image '{source}' is {width}x{height}, an aspect ratio of {aspect:0.##}; Qwen2-VL accepts at most 200. Crop or pad it."));
        }

        // Python: round() is half-to-even on the exact double; the products are exact in long.
        long hBar = (long)Math.Round((double)height / factor, MidpointRounding.ToEven) * factor;
        long wBar = (long)Math.Round((double)width / factor, MidpointRounding.ToEven) * factor;
        if (hBar * wBar > maxPixels)
        {
            double beta = Math.Sqrt((double)((long)height * width) / maxPixels);
            hBar = Math.Max(factor, (long)Math.Floor(height / beta / factor) * factor);
            wBar = Math.Max(factor, (long)Math.Floor(width / beta / factor) * factor);
        }
        else if (hBar * wBar < minPixels)
        {
            double beta = Math.Sqrt(minPixels / (double)((long)height * width));
            hBar = (long)Math.Ceiling(height * beta / factor) * factor;
            wBar = (long)Math.Ceiling(width * beta / factor) * factor;
        }

        if (hBar < 1 || wBar < 1 || hBar > int.MaxValue || wBar > int.MaxValue)
        {
            throw new InvalidMediaException(string.Create(
                CultureInfo.InvariantCulture,
                $"Image '{source}' ({width}x{height}) resizes to {wBar}x{hBar} with min_pixels={minPixels}, max_pixels={maxPixels}. Use a larger image or raise min_pixels."));
        }

        return ((int)hBar, (int)wBar);
    }

    /// <summary>Preprocesses one image into HF's <c>pixel_values</c> and <c>image_grid_thw</c>.</summary>
    /// <param name="image">Decoded RGB pixels (see <c>ImageDecoder</c>).</param>
    /// <param name="options">Processor settings (a checkpoint's preprocessor_config.json, optionally overridden).</param>
    /// <returns>pixel_values <c>[Rows, 1176]</c> and the grid.</returns>
    /// <exception cref="InvalidMediaException">The image cannot be processed (aspect ratio, size).</exception>
    public static Qwen2VLImageFeatures Preprocess(RgbImage image, Qwen2VLImageOptions options)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        (int height, int width) = options.DoResize
            ? SmartResize(image.Height, image.Width, options.Factor, options.MinPixels, options.MaxPixels, image.Source)
            : (image.Height, image.Width);
        if (height % options.Factor != 0 || width % options.Factor != 0)
        {
            throw new InvalidMediaException(
                $"Image '{image.Source}' is {width}x{height}; with do_resize=false both sides must be multiples of {options.Factor}. Resize it or enable do_resize.");
        }

        byte[] resized = options.DoResize
            ? PillowResize.Bicubic(image.Pixels, image.Width, image.Height, width, height)
            : image.Pixels;
        return Patchify([resized], height, width, NormalizationTable(options), options);
    }

    /// <summary>
    /// The float32 value of each uint8 level per channel, <c>[3 * 256]</c>: HF's rescale
    /// (<c>(x.astype(float64) * scale).astype(float32)</c>) then normalize (mean and std cast to float32,
    /// <c>(x - mean) / std</c> in float32). Element-wise, so a table gives the same bits as the array code.
    /// </summary>
    internal static float[] NormalizationTable(Qwen2VLImageOptions options)
    {
        var table = new float[3 * 256];
        for (int c = 0; c < 3; c++)
        {
            float mean = (float)options.ImageMean[c];
            float std = (float)options.ImageStd[c];
            for (int v = 0; v < 256; v++)
            {
                float x = options.DoRescale ? (float)(v * options.RescaleFactor) : v;
                if (options.DoNormalize)
                {
                    x = (x - mean) / std;
                }

                table[(c * 256) + v] = x;
            }
        }

        return table;
    }

    /// <summary>
    /// The patchify of <c>_preprocess</c> for a run of frames of one size (an image is one frame): the frame count is
    /// padded to a multiple of <c>temporal_patch_size</c> by repeating the last frame, then
    /// <c>reshape(t, tp, C, gh/m, m, p, gw/m, m, p).transpose(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(t*gh*gw, C*tp*p*p)</c>.
    /// </summary>
    /// <param name="frames">Row-major RGB frames, each <c>height * width * 3</c> bytes.</param>
    /// <param name="height">Frame height (a multiple of patch_size * merge_size).</param>
    /// <param name="width">Frame width (a multiple of patch_size * merge_size).</param>
    /// <param name="table">The per-channel level table of <see cref="NormalizationTable"/>.</param>
    /// <param name="options">Patch, merge and temporal patch sizes.</param>
    internal static Qwen2VLImageFeatures Patchify(IReadOnlyList<byte[]> frames, int height, int width, float[] table, Qwen2VLImageOptions options)
    {
        int p = options.PatchSize;
        int m = options.MergeSize;
        int tp = options.TemporalPatchSize;
        int gridT = (frames.Count + tp - 1) / tp;
        int gridH = height / p;
        int gridW = width / p;
        int rows = checked(gridT * gridH * gridW);
        int columns = 3 * tp * p * p;
        int plane = p * p;
        var pixelValues = new float[checked((long)rows * columns)];

        int row = 0;
        for (int t = 0; t < gridT; t++)
        {
            for (int bh = 0; bh < gridH / m; bh++)
            {
                for (int bw = 0; bw < gridW / m; bw++)
                {
                    for (int mh = 0; mh < m; mh++)
                    {
                        for (int mw = 0; mw < m; mw++, row++)
                        {
                            int y0 = ((bh * m) + mh) * p;
                            int x0 = ((bw * m) + mw) * p;
                            var dst = pixelValues.AsSpan(row * columns, columns);
                            for (int c = 0; c < 3; c++)
                            {
                                var levels = table.AsSpan(c * 256, 256);
                                for (int f = 0; f < tp; f++)
                                {
                                    byte[] rgb = frames[Math.Min((t * tp) + f, frames.Count - 1)];
                                    var slot = dst.Slice(((c * tp) + f) * plane, plane); // column = ((c * tp + f) * p + py) * p + px
                                    for (int py = 0; py < p; py++)
                                    {
                                        int s = ((((y0 + py) * width) + x0) * 3) + c;
                                        for (int px = 0; px < p; px++, s += 3)
                                        {
                                            slot[(py * p) + px] = levels[rgb[s]];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        return new Qwen2VLImageFeatures(pixelValues, rows, columns, gridT, gridH, gridW, height, width, rows / (m * m));
    }
}

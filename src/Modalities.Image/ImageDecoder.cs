using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using JudgeHost.Abstractions;
using SkiaSharp;

namespace Modalities.Image;

/// <summary>
/// Decodes PNG, JPEG, WebP, BMP and GIF (first frame) files with SkiaSharp into the RGB pixels PIL's
/// <c>Image.open(path).convert("RGB")</c> gives, which is what Hugging Face's Qwen2-VL processor and qwen_vl_utils'
/// <c>fetch_image</c> start from:
/// <list type="bullet">
/// <item>alpha is dropped, not composited: the colour stored under a transparent pixel is kept (PIL stores RGBA
/// unpremultiplied, so Skia is asked for unpremultiplied pixels);</item>
/// <item>grayscale and palette images are expanded to RGB; a GIF's transparent pixels get their palette colour, as in
/// PIL (Skia leaves them without one, see <see cref="GifFirstFrame"/>);</item>
/// <item>no colour management (no ICC, gAMA or sRGB handling; PIL does none either);</item>
/// <item>EXIF orientation is not applied unless <see cref="ImageDecoderOptions.ApplyExifOrientation"/> is set
/// (HF's processor does not apply it, and neither does <c>fetch_image</c>).</item>
/// </list>
/// Bad input throws <see cref="InvalidMediaException"/> naming the file.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Formats this decoder accepts, as named in error messages.</summary>
    public const string SupportedFormats = "PNG, JPEG, WebP, BMP, GIF (first frame)";

    /// <summary>Reads and decodes an image file.</summary>
    /// <param name="path">The file; named in every error.</param>
    /// <param name="options">Limits and EXIF handling; <see cref="ImageDecoderOptions.Default"/> when null.</param>
    /// <returns>The RGB pixels, with <see cref="RgbImage.Source"/> = <paramref name="path"/>.</returns>
    /// <exception cref="InvalidMediaException">Missing, unreadable, empty, unsupported, corrupt, truncated, too large or too elongated.</exception>
    public static RgbImage DecodeFile(string path, ImageDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new InvalidMediaException(Directory.Exists(path)
                ? $"Image '{path}' is a directory, not a file. Pass the path of an image file."
                : $"Image file '{path}' does not exist. Check the path (relative paths resolve against '{Environment.CurrentDirectory}').");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidMediaException($"Image file '{path}' cannot be read: {ex.Message} Check its permissions.", ex);
        }

        return Decode(bytes, path, options);
    }

    /// <summary>Decodes an encoded image held in memory.</summary>
    /// <param name="encoded">The file's bytes.</param>
    /// <param name="source">A name for messages (file path or URL).</param>
    /// <param name="options">Limits and EXIF handling; <see cref="ImageDecoderOptions.Default"/> when null.</param>
    /// <returns>The RGB pixels.</returns>
    /// <exception cref="InvalidMediaException">Empty, unsupported, corrupt, truncated, too large or too elongated.</exception>
    public static RgbImage Decode(byte[] encoded, string source, ImageDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(source);
        options ??= ImageDecoderOptions.Default;
        if (encoded.Length == 0)
        {
            throw new InvalidMediaException($"Image file '{source}' is empty (0 bytes). Re-export or re-download it.");
        }

        string? sniffed = SniffFormat(encoded);
        if (sniffed is not null && !IsSupported(sniffed))
        {
            throw Unsupported(source, sniffed);
        }

        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        if (codec is null)
        {
            throw sniffed is null
                ? new InvalidMediaException(
                    $"Image file '{source}' is not in a recognised image format (first bytes {Hex(encoded)}). Supported: {SupportedFormats}.")
                : new InvalidMediaException(
                    $"Image file '{source}' looks like {sniffed} but its header cannot be read: the file is corrupt or truncated. Re-export or re-download it.");
        }

        string format = FormatName(codec.EncodedFormat);
        if (!IsSupported(format))
        {
            throw Unsupported(source, format);
        }

        // The header is all that has been read so far: refuse bombs and extreme shapes before allocating anything.
        int width = codec.Info.Width;
        int height = codec.Info.Height;
        if (width <= 0 || height <= 0)
        {
            throw new InvalidMediaException($"Image file '{source}' ({format}) declares a {width}x{height} size. The file is corrupt; re-export it.");
        }

        long pixels = (long)width * height;
        if (pixels > options.MaxPixels || pixels * 4 > Array.MaxLength)
        {
            throw new InvalidMediaException(string.Create(
                CultureInfo.InvariantCulture,
                $"Image file '{source}' is {width}x{height} = {pixels:N0} pixels, more than the limit of {Math.Min(options.MaxPixels, Array.MaxLength / 4):N0} (a guard against decompression bombs, like PIL's). Downscale it, or raise Modalities:Image:MaxPixels if it is trusted."));
        }

        double aspect = (double)Math.Max(width, height) / Math.Min(width, height);
        if (aspect > options.MaxAspectRatio)
        {
            throw new InvalidMediaException(string.Create(
                CultureInfo.InvariantCulture,
                $"Image file '{source}' is {width}x{height}, an aspect ratio of {aspect:0.##}; at most {options.MaxAspectRatio:0.##} is accepted (Qwen2-VL's smart_resize limit). Crop or pad it."));
        }

        // Unpremultiplied RGBA with no colour space: raw stored values, no colour conversion, alpha untouched.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        byte[] rgba = GC.AllocateUninitializedArray<byte>(checked(width * height * 4));
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = rgba)
            {
                result = codec.GetPixels(info, (IntPtr)p, new SKCodecOptions(0));
            }
        }

        if (result != SKCodecResult.Success)
        {
            // PIL refuses truncated files too ("image file is truncated") unless LOAD_TRUNCATED_IMAGES is set.
            string what = result is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput
                ? "is truncated or its pixel data are corrupt"
                : $"cannot be decoded ({result})";
            throw new InvalidMediaException(
                $"Image file '{source}' ({format}, {width}x{height}) {what}. Re-export or re-download it.");
        }

        if (codec.EncodedFormat == SKEncodedImageFormat.Gif)
        {
            GifFirstFrame.FillTransparent(encoded, rgba);
        }

        byte[] rgb = GC.AllocateUninitializedArray<byte>(width * height * 3);
        RgbaToRgb(rgba, rgb);
        var image = new RgbImage(rgb, width, height, source);
        return options.ApplyExifOrientation ? ExifOrientation.Apply(image, (int)codec.EncodedOrigin) : image;
    }

    /// <summary>Drops every fourth byte: RGBA -> RGB, 4 pixels per SIMD shuffle (a per-pixel loop is ~10x slower on 1080p).</summary>
    internal static void RgbaToRgb(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        int n = rgba.Length / 4;
        if (rgb.Length < n * 3)
        {
            throw new ArgumentException($"RGB buffer has {rgb.Length} bytes; {n * 3} needed.", nameof(rgb));
        }

        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            ref byte src = ref MemoryMarshal.GetReference(rgba);
            ref byte dst = ref MemoryMarshal.GetReference(rgb);
            // Indices >= 16 select zero; the 4 trailing bytes of each store are overwritten by the next one.
            var shuffle = Vector128.Create((byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 255, 255, 255, 255);
            for (; i + 4 <= n && (3 * i) + 16 <= rgb.Length; i += 4)
            {
                Vector128.Shuffle(Vector128.LoadUnsafe(ref src, (nuint)(4 * i)), shuffle).StoreUnsafe(ref dst, (nuint)(3 * i));
            }
        }

        for (; i < n; i++)
        {
            rgb[3 * i] = rgba[4 * i];
            rgb[(3 * i) + 1] = rgba[(4 * i) + 1];
            rgb[(3 * i) + 2] = rgba[(4 * i) + 2];
        }
    }

    private static bool IsSupported(string format) => format is "PNG" or "JPEG" or "WebP" or "BMP" or "GIF";

    private static InvalidMediaException Unsupported(string source, string format) =>
        new($"Image file '{source}' is {format}, which is not supported. Supported: {SupportedFormats}. Convert it to PNG.");

    private static string FormatName(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Png => "PNG",
        SKEncodedImageFormat.Jpeg => "JPEG",
        SKEncodedImageFormat.Webp => "WebP",
        SKEncodedImageFormat.Bmp => "BMP",
        SKEncodedImageFormat.Gif => "GIF",
        SKEncodedImageFormat.Ico => "ICO",
        SKEncodedImageFormat.Wbmp => "WBMP",
        SKEncodedImageFormat.Heif => "HEIF",
        SKEncodedImageFormat.Avif => "AVIF",
        SKEncodedImageFormat.Dng => "DNG",
        _ => format.ToString().ToUpperInvariant(),
    };

    /// <summary>Names a format from its magic bytes, so a corrupt PNG is reported as corrupt and a TIFF as unsupported.</summary>
    private static string? SniffFormat(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith([(byte)0x89, (byte)0x50, (byte)0x4E, (byte)0x47, (byte)0x0D, (byte)0x0A, (byte)0x1A, (byte)0x0A]))
        {
            return "PNG";
        }

        if (b.StartsWith([(byte)0xFF, (byte)0xD8, (byte)0xFF]))
        {
            return "JPEG";
        }

        if (b.StartsWith("GIF87a"u8) || b.StartsWith("GIF89a"u8))
        {
            return "GIF";
        }

        if (b.Length >= 12 && b.StartsWith("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8))
        {
            return "WebP";
        }

        if (b.StartsWith("BM"u8))
        {
            return "BMP";
        }

        if (b.StartsWith("II*\0"u8) || b.StartsWith("MM\0*"u8))
        {
            return "TIFF";
        }

        if (b.Length >= 12 && b[4..8].SequenceEqual("ftyp"u8))
        {
            var brand = b[8..12];
            return brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8) ? "AVIF" : "HEIF/ISO-BMFF";
        }

        if (b.StartsWith([(byte)0, (byte)0, (byte)1, (byte)0]))
        {
            return "ICO";
        }

        if (b.StartsWith([(byte)0xFF, (byte)0x0A]) || b.StartsWith([(byte)0, (byte)0, (byte)0, (byte)0x0C, (byte)0x4A, (byte)0x58, (byte)0x4C, (byte)0x20]))
        {
            return "JPEG XL";
        }

        return b.StartsWith("%PDF"u8) ? "PDF" : null;
    }

    private static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b[..Math.Min(8, b.Length)]);
}

namespace Modalities.Image;

/// <summary>
/// An 8-bit RGB image: rows top to bottom, 3 bytes per pixel (R, G, B), no padding. This is the array PIL gives
/// for <c>np.array(image.convert("RGB"))</c> (HWC uint8), which is what Hugging Face's image processors start from.
/// </summary>
public sealed record RgbImage
{
    /// <summary>Wraps pixels (not copied).</summary>
    /// <param name="pixels">Width * height * 3 bytes, row-major RGB.</param>
    /// <param name="width">Width in pixels (at least 1).</param>
    /// <param name="height">Height in pixels (at least 1).</param>
    /// <param name="source">What the pixels came from (a file path), for error messages.</param>
    public RgbImage(byte[] pixels, int width, int height, string source)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (pixels.LongLength != (long)width * height * 3)
        {
            throw new ArgumentException(
                $"RGB pixel buffer has {pixels.LongLength} bytes; {width}x{height}x3 = {(long)width * height * 3} expected.",
                nameof(pixels));
        }

        Pixels = pixels;
        Width = width;
        Height = height;
        Source = source;
    }

    /// <summary>Row-major RGB bytes, <c>Width * Height * 3</c> long.</summary>
    public byte[] Pixels { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>What the pixels came from (a file path), used in error messages.</summary>
    public string Source { get; }
}

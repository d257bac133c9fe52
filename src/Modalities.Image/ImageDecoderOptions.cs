namespace Modalities.Image;

/// <summary>Limits and behaviour of <see cref="ImageDecoder"/>. Bound from <c>Modalities:Image</c> by the plugin.</summary>
public sealed record ImageDecoderOptions
{
    /// <summary>PIL's <c>Image.MAX_IMAGE_PIXELS</c>: <c>1024 * 1024 * 1024 // 4 // 3</c>.</summary>
    public const long PillowMaxImagePixels = 89_478_485;

    /// <summary>The defaults: PIL's pixel limit, smart_resize's aspect-ratio limit, no EXIF orientation.</summary>
    public static ImageDecoderOptions Default { get; } = new();

    /// <summary>
    /// Images with more pixels than this are refused before decoding (the size is read from the header), like
    /// PIL's decompression-bomb guard. PIL warns above this value and refuses above twice it; here it is one limit.
    /// </summary>
    public long MaxPixels { get; init; } = PillowMaxImagePixels;

    /// <summary>Longest side / shortest side above which an image is refused (Qwen2-VL's smart_resize requires at most 200).</summary>
    public double MaxAspectRatio { get; init; } = 200.0;

    /// <summary>
    /// Rotate or flip by the EXIF Orientation tag, as PIL's <c>ImageOps.exif_transpose</c> does. Off by default: Hugging
    /// Face's processor and qwen_vl_utils' <c>fetch_image</c> (<c>Image.open(...).convert("RGB")</c>) never apply it,
    /// so the model sees the stored pixel grid. Turning it on matches a pipeline that calls <c>exif_transpose</c> first.
    /// </summary>
    public bool ApplyExifOrientation { get; init; }
}

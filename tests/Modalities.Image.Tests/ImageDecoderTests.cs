using JudgeHost.Abstractions;

namespace Modalities.Image.Tests;

public sealed class ImageDecoderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("modalities-image-tests-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void DecodeFile_MissingFile_ThrowsNamingIt()
    {
        string path = Path.Combine(dir, "missing.png");

        var ex = Assert.Throws<InvalidMediaException>(() => ImageDecoder.DecodeFile(path));

        AssertNames(ex, path, "does not exist");
    }

    [Fact]
    public void DecodeFile_Directory_ThrowsNamingIt()
    {
        var ex = Assert.Throws<InvalidMediaException>(() => ImageDecoder.DecodeFile(dir));

        AssertNames(ex, dir, "directory");
    }

    [Fact]
    public void DecodeFile_ZeroBytes_ThrowsNamingIt()
    {
        string path = Write("empty.png", []);

        var ex = Assert.Throws<InvalidMediaException>(() => ImageDecoder.DecodeFile(path));

        AssertNames(ex, path, "empty");
    }

    [Theory]
    // Truncated in the entropy-coded data: the header reads, the pixels do not.
    [InlineData("images/photo_q90_320x240.jpg", 0.5)]
    // Truncated inside IDAT.
    [InlineData("images/rgb_644x476.png", 0.5)]
    // Truncated inside the LZW data.
    [InlineData("images/palette_2frames_120x90.gif", 0.3)]
    // Truncated inside the VP8L bitstream.
    [InlineData("images/lossless_200x200.webp", 0.5)]
    // Truncated in the pixel array.
    [InlineData("images/bmp24_130x70.bmp", 0.5)]
    public void DecodeFile_Truncated_ThrowsNamingIt(string fixture, double keep)
    {
        byte[] full = File.ReadAllBytes(Fixtures.PathOf(fixture));
        string path = Write("truncated" + Path.GetExtension(fixture), full[..(int)(full.Length * keep)]);

        var ex = Assert.Throws<InvalidMediaException>(() => ImageDecoder.DecodeFile(path));

        AssertNames(ex, path, "truncated");
    }

    [Fact]
    public void DecodeFile_PngSignatureThenGarbage_ThrowsCorrupt()
    {
        byte[] bytes = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. new byte[64].Select((_, i) => (byte)(i * 37))];
        string path = Write("corrupt.png", bytes);

        var ex = Assert.Throws<InvalidMediaException>(() => ImageDecoder.DecodeFile(path));

        AssertNames(ex, path, "looks like PNG");
    }

    [Fact]
    public void DecodeFile_TextFile_ThrowsNotAnImage()
    {
        string path = Write("notes.png", "just some text, not pixels\n"u8.ToArray());

        var ex = Assert.Throws<InvalidMediaException>(() => ImageDecoder.DecodeFile(path));

        AssertNames(ex, path, "not in a recognised image format");
    }

    [Fact]
    public void DecodeFile_Tiff_ThrowsUnsupportedListingFormats()
    {
        string path = Fixtures.PathOf("images/bad/unsupported_32x32.tif");

        var ex = Assert.Throws<InvalidMediaException>(() => ImageDecoder.DecodeFile(path));

        AssertNames(ex, path, "TIFF, which is not supported");
        Assert.Contains(ImageDecoder.SupportedFormats, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeFile_OverPixelLimit_ThrowsBeforeDecoding()
    {
        string path = Fixtures.PathOf("images/rgb_448x448.png");
        var options = ImageDecoderOptions.Default with { MaxPixels = 448 * 448 - 1 };

        var ex = Assert.Throws<InvalidMediaException>(() => ImageDecoder.DecodeFile(path, options));

        AssertNames(ex, path, "200,704 pixels");
    }

    [Fact]
    public void DecodeFile_AtPixelLimit_Decodes()
    {
        var options = ImageDecoderOptions.Default with { MaxPixels = 448 * 448 };

        var image = ImageDecoder.DecodeFile(Fixtures.PathOf("images/rgb_448x448.png"), options);

        Assert.Equal((448, 448), (image.Width, image.Height));
    }

    [Fact]
    public void Default_PixelLimit_IsPillows()
    {
        Assert.Equal(1024L * 1024 * 1024 / 4 / 3, ImageDecoderOptions.Default.MaxPixels);
        Assert.False(ImageDecoderOptions.Default.ApplyExifOrientation);
    }

    [Fact]
    public void DecodeFile_AspectRatioOver200_ThrowsNamingIt()
    {
        string path = Fixtures.PathOf("images/bad/aspect_500x2.png");

        var ex = Assert.Throws<InvalidMediaException>(() => ImageDecoder.DecodeFile(path));

        AssertNames(ex, path, "aspect ratio of 250");
    }

    [Fact]
    public void DecodeFile_ExifOrientation6_KeepsStoredGridByDefaultAndRotatesOnRequest()
    {
        string path = Fixtures.PathOf("images/exif_orient6_96x64.jpg");

        var stored = ImageDecoder.DecodeFile(path);
        var rotated = ImageDecoder.DecodeFile(path, ImageDecoderOptions.Default with { ApplyExifOrientation = true });

        Assert.Equal((96, 64), (stored.Width, stored.Height));
        Assert.Equal((64, 96), (rotated.Width, rotated.Height));
        // ROTATE_270 (90 degrees clockwise): the stored bottom-left pixel becomes the top-left one.
        Assert.Equal(stored.Pixels.AsSpan(((63 * 96) + 0) * 3, 3).ToArray(), rotated.Pixels.AsSpan(0, 3).ToArray());
    }

    [Theory]
    // Every EXIF orientation value against PIL's ImageOps.exif_transpose of the same pixels.
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void ExifOrientation_EachValue_MatchesPilExifTranspose(int orientation)
    {
        var npz = Npz.Load(Fixtures.PathOf("expected/orientation.npz"));
        var source = new RgbImage(npz.UInt8("source"), 6, 4, "orientation");
        int[] shape = npz.Shape($"orientation_{orientation}");

        var result = ExifOrientation.Apply(source, orientation);

        Assert.Equal((shape[1], shape[0]), (result.Width, result.Height));
        Assert.Equal(npz.UInt8($"orientation_{orientation}"), result.Pixels);
    }

    [Fact]
    public void RgbaToRgb_EveryLengthUpTo67Pixels_MatchesScalarDrop()
    {
        var rng = new Random(7);
        for (int n = 0; n <= 67; n++)
        {
            byte[] rgba = new byte[n * 4];
            rng.NextBytes(rgba);
            byte[] rgb = new byte[n * 3];

            ImageDecoder.RgbaToRgb(rgba, rgb);

            byte[] expected = Enumerable.Range(0, n * 4).Where(i => i % 4 != 3).Select(i => rgba[i]).ToArray();
            Assert.Equal(expected, rgb);
        }
    }

    [Fact]
    public void DecodeFile_Gif_TakesFirstFrameOnly()
    {
        var image = ImageDecoder.DecodeFile(Fixtures.PathOf("images/palette_2frames_120x90.gif"));

        Assert.Equal(Fixtures.Case("palette_2frames_120x90").DecodedSha256,
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(image.Pixels)));
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertNames(InvalidMediaException ex, string path, string what)
    {
        Assert.Contains($"'{path}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(what, ex.Message, StringComparison.Ordinal);
        Assert.EndsWith(".", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.IsUserError);
    }
}

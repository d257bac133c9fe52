namespace Modalities.Image.Tests;

public sealed class PillowResizeTests
{
    [Theory]
    // The kernel at its knots: 1 at 0, 0 at integers, 0 outside the support.
    [InlineData(0.0, 1.0)]
    [InlineData(1.0, 0.0)]
    [InlineData(-1.0, 0.0)]
    [InlineData(2.0, 0.0)]
    [InlineData(2.5, 0.0)]
    // Keys a = -0.5: f(0.5) = 0.5625, f(1.5) = -0.0625.
    [InlineData(0.5, 0.5625)]
    [InlineData(-1.5, -0.0625)]
    public void BicubicFilter_Knots_MatchKeysCubic(double x, double expected)
    {
        Assert.Equal(expected, PillowResize.BicubicFilter(x));
    }

    [Theory]
    // Upscale: support 2, 4 or 5 taps.
    [InlineData(57, 196)]
    // Slight downscale.
    [InlineData(91, 84)]
    // Strong downscale: support widened to 2 * scale.
    [InlineData(1500, 252)]
    // One source pixel.
    [InlineData(1, 28)]
    public void Coefficients_EachOutput_SumToOneAndStayInBounds(int inSize, int outSize)
    {
        var c = PillowResize.Coefficients.Compute(inSize, outSize);

        for (int i = 0; i < outSize; i++)
        {
            int xmin = c.Bounds[2 * i], count = c.Bounds[(2 * i) + 1];
            Assert.InRange(xmin, 0, inSize - 1);
            Assert.InRange(xmin + count, 1, inSize);
            Assert.InRange(count, 1, c.KSize);
            Assert.Equal(1.0, c.Weights.AsSpan(i * c.KSize, count).ToArray().Sum(), 12);
            Assert.InRange(c.Fixed.AsSpan(i * c.KSize, count).ToArray().Sum(), (1 << 22) - count, (1 << 22) + count);
        }
    }

    [Fact]
    public void Bicubic_SameSize_IsACopy()
    {
        byte[] rgb = Enumerable.Range(0, 5 * 3 * 3).Select(i => (byte)i).ToArray();

        byte[] result = PillowResize.Bicubic(rgb, 5, 3, 5, 3);

        Assert.Equal(rgb, result);
        Assert.NotSame(rgb, result);
    }

    [Fact]
    public void Bicubic_Uniform_StaysUniform()
    {
        byte[] rgb = Enumerable.Repeat((byte)77, 37 * 23 * 3).ToArray();

        byte[] result = PillowResize.Bicubic(rgb, 37, 23, 112, 56);

        Assert.All(result, b => Assert.Equal(77, b));
    }

    [Fact]
    public void Bicubic_HardEdges_ClipAtZeroAnd255()
    {
        // A 1-px checkerboard upscaled overshoots on both sides; Pillow clips to [0, 255].
        byte[] rgb = new byte[8 * 8 * 3];
        for (int i = 0; i < 64; i++)
        {
            rgb[(3 * i) + 0] = rgb[(3 * i) + 1] = rgb[(3 * i) + 2] = (byte)((((i / 8) + (i % 8)) % 2) * 255);
        }

        byte[] result = PillowResize.Bicubic(rgb, 8, 8, 28, 28);

        Assert.Contains((byte)0, result);
        Assert.Contains((byte)255, result);
    }
}

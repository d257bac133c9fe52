namespace Modalities.Image;

/// <summary>
/// Pillow's <c>Image.resize((w, h), Image.BICUBIC)</c> on an 8-bit RGB image, ported from
/// <c>src/libImaging/Resample.c</c> so the output is byte-identical (MODEL_SPEC Appendix A):
/// Keys cubic with a = -0.5; the support widened by the scale when downscaling (antialiasing); coefficients in
/// double, normalised to sum 1, then to 22-bit fixed point; a horizontal pass, an 8-bit clipped intermediate, a
/// vertical pass; each output = clip8((1 &lt;&lt; 21 + Σ pixel·k) &gt;&gt; 22). Same size in and out is a copy.
/// </summary>
public static class PillowResize
{
    // 8 bits for the result; two more for the filter's negative lobes and overshoot (Resample.c).
    private const int PrecisionBits = 32 - 8 - 2;
    private const double BicubicSupport = 2.0;

    // Rows of work above which a pass is split over threads (output is the same either way).
    private const long ParallelThreshold = 1 << 18;

    /// <summary>Resizes an RGB image as Pillow's BICUBIC filter does.</summary>
    /// <param name="image">Source pixels.</param>
    /// <param name="width">Output width (at least 1).</param>
    /// <param name="height">Output height (at least 1).</param>
    /// <returns>A new image; the same pixels copied when the size does not change (Pillow's <c>self.copy()</c>).</returns>
    public static RgbImage Bicubic(RgbImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new RgbImage(Bicubic(image.Pixels, image.Width, image.Height, width, height), width, height, image.Source);
    }

    /// <summary>Resizes row-major RGB bytes as Pillow's BICUBIC filter does.</summary>
    /// <param name="rgb">Source pixels, <paramref name="inWidth"/> * <paramref name="inHeight"/> * 3 bytes.</param>
    /// <param name="inWidth">Source width.</param>
    /// <param name="inHeight">Source height.</param>
    /// <param name="outWidth">Output width.</param>
    /// <param name="outHeight">Output height.</param>
    /// <returns>Output pixels, <paramref name="outWidth"/> * <paramref name="outHeight"/> * 3 bytes.</returns>
    public static byte[] Bicubic(ReadOnlySpan<byte> rgb, int inWidth, int inHeight, int outWidth, int outHeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inHeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outHeight, 1);
        if (rgb.Length != (long)inWidth * inHeight * 3)
        {
            throw new ArgumentException($"RGB buffer has {rgb.Length} bytes; {inWidth}x{inHeight}x3 expected.", nameof(rgb));
        }

        if (inWidth == outWidth && inHeight == outHeight)
        {
            return rgb.ToArray();
        }

        bool needHorizontal = outWidth != inWidth;
        bool needVertical = outHeight != inHeight;

        var vertical = Coefficients.Compute(inHeight, outHeight);
        int yFirst = vertical.Bounds[0];
        int yLast = vertical.Bounds[(2 * outHeight) - 2] + vertical.Bounds[(2 * outHeight) - 1];

        byte[] src = rgb.ToArray();
        int srcWidth = inWidth;
        int rowOffset = 0;
        if (needHorizontal)
        {
            // Only the source rows the vertical pass reads (Resample.c's ybox_first..ybox_last).
            var horizontal = Coefficients.Compute(inWidth, outWidth);
            src = Horizontal(src, inWidth, yFirst, yLast - yFirst, outWidth, horizontal);
            srcWidth = outWidth;
            rowOffset = yFirst;
        }

        return needVertical ? Vertical(src, srcWidth, rowOffset, outHeight, vertical) : src;
    }

    /// <summary>Pillow's bicubic_filter (a = -0.5), operation for operation.</summary>
    internal static double BicubicFilter(double x)
    {
        const double a = -0.5;
        if (x < 0.0)
        {
            x = -x;
        }

        if (x < 1.0)
        {
            return ((((a + 2.0) * x) - (a + 3.0)) * x * x) + 1;
        }

        if (x < 2.0)
        {
            return ((((x - 5) * x) + 8) * x - 4) * a;
        }

        return 0.0;
    }

    private static byte Clip8(int acc)
    {
        int v = acc >> PrecisionBits; // arithmetic shift, as the C code's lookup-table index
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    private static byte[] Horizontal(byte[] src, int inWidth, int firstRow, int rows, int outWidth, Coefficients c)
    {
        byte[] dst = new byte[rows * outWidth * 3];
        int[] bounds = c.Bounds;
        int[] kk = c.Fixed;
        int ksize = c.KSize;

        void Row(int yy)
        {
            int srcRow = (yy + firstRow) * inWidth * 3;
            int dstRow = yy * outWidth * 3;
            for (int xx = 0; xx < outWidth; xx++)
            {
                int xmin = bounds[2 * xx];
                int xmax = bounds[(2 * xx) + 1];
                int k = xx * ksize;
                int ss0 = 1 << (PrecisionBits - 1);
                int ss1 = ss0;
                int ss2 = ss0;
                int p = srcRow + (xmin * 3);
                for (int x = 0; x < xmax; x++, p += 3)
                {
                    int w = kk[k + x];
                    ss0 += src[p] * w;
                    ss1 += src[p + 1] * w;
                    ss2 += src[p + 2] * w;
                }

                int d = dstRow + (xx * 3);
                dst[d] = Clip8(ss0);
                dst[d + 1] = Clip8(ss1);
                dst[d + 2] = Clip8(ss2);
            }
        }

        Run(rows, (long)rows * outWidth * ksize, Row);
        return dst;
    }

    private static byte[] Vertical(byte[] src, int width, int rowOffset, int outHeight, Coefficients c)
    {
        int stride = width * 3;
        byte[] dst = new byte[outHeight * stride];
        int[] bounds = c.Bounds;
        int[] kk = c.Fixed;
        int ksize = c.KSize;

        // Each byte of a row (R, G and B alike) gets the same taps, so a row is one flat loop.
        void Row(int yy)
        {
            int ymin = bounds[2 * yy] - rowOffset;
            int ymax = bounds[(2 * yy) + 1];
            int k = yy * ksize;
            int dstRow = yy * stride;
            for (int i = 0; i < stride; i++)
            {
                int ss = 1 << (PrecisionBits - 1);
                int p = (ymin * stride) + i;
                for (int y = 0; y < ymax; y++, p += stride)
                {
                    ss += src[p] * kk[k + y];
                }

                dst[dstRow + i] = Clip8(ss);
            }
        }

        Run(outHeight, (long)outHeight * width * ksize, Row);
        return dst;
    }

    private static void Run(int rows, long work, Action<int> row)
    {
        if (work < ParallelThreshold || Environment.ProcessorCount < 2)
        {
            for (int r = 0; r < rows; r++)
            {
                row(r);
            }
        }
        else
        {
            Parallel.For(0, rows, row);
        }
    }

    /// <summary>Resample.c's precompute_coeffs + normalize_coeffs_8bpc for one axis (box = the whole axis).</summary>
    internal sealed class Coefficients
    {
        private Coefficients(int ksize, int[] bounds, double[] weights, int[] fixedPoint)
        {
            KSize = ksize;
            Bounds = bounds;
            Weights = weights;
            Fixed = fixedPoint;
        }

        /// <summary>Taps reserved per output index: ceil(support) * 2 + 1.</summary>
        public int KSize { get; }

        /// <summary>Per output index: first source index (xmin), tap count (xmax).</summary>
        public int[] Bounds { get; }

        /// <summary>Normalised double weights, <see cref="KSize"/> per output index (unused taps 0).</summary>
        public double[] Weights { get; }

        /// <summary>Weights in 22-bit fixed point, rounded half away from zero.</summary>
        public int[] Fixed { get; }

        public static Coefficients Compute(int inSize, int outSize)
        {
            // in0 = 0, in1 = inSize (floats in C; exact for any image size).
            double scale = (double)inSize / outSize;
            double filterscale = scale < 1.0 ? 1.0 : scale;
            double support = BicubicSupport * filterscale;
            int ksize = ((int)Math.Ceiling(support) * 2) + 1;
            if (outSize > int.MaxValue / (ksize * sizeof(double)))
            {
                throw new ArgumentOutOfRangeException(nameof(outSize), outSize, $"Too many resampling coefficients for {inSize} -> {outSize}.");
            }

            var bounds = new int[outSize * 2];
            var kk = new double[outSize * ksize];
            for (int xx = 0; xx < outSize; xx++)
            {
                double center = 0.0 + ((xx + 0.5) * scale);
                double ww = 0.0;
                double ss = 1.0 / filterscale;
                int xmin = (int)(center - support + 0.5); // C cast: truncation toward zero
                if (xmin < 0)
                {
                    xmin = 0;
                }

                int xmax = (int)(center + support + 0.5);
                if (xmax > inSize)
                {
                    xmax = inSize;
                }

                xmax -= xmin;
                int k = xx * ksize;
                for (int x = 0; x < xmax; x++)
                {
                    double w = BicubicFilter((x + xmin - center + 0.5) * ss);
                    kk[k + x] = w;
                    ww += w;
                }

                for (int x = 0; x < xmax; x++)
                {
                    if (ww != 0.0)
                    {
                        kk[k + x] /= ww;
                    }
                }

                bounds[2 * xx] = xmin;
                bounds[(2 * xx) + 1] = xmax;
            }

            var fixedPoint = new int[kk.Length];
            for (int i = 0; i < kk.Length; i++)
            {
                fixedPoint[i] = kk[i] < 0
                    ? (int)(-0.5 + (kk[i] * (1 << PrecisionBits)))
                    : (int)(0.5 + (kk[i] * (1 << PrecisionBits)));
            }

            return new Coefficients(ksize, bounds, kk, fixedPoint);
        }
    }
}

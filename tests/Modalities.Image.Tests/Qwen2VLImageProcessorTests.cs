using JudgeHost.Abstractions;

namespace Modalities.Image.Tests;

public sealed class Qwen2VLImageProcessorTests
{
    [Fact]
    public void Preprocess_1280x720WithCheckpointBudget_GivesAppendixBGrid()
    {
        var image = new RgbImage(new byte[1280 * 720 * 3], 1280, 720, "blank.png");
        var options = Qwen2VLImageOptions.Default with { MinPixels = 3136, MaxPixels = 12845056 };

        var f = Qwen2VLImageProcessor.Preprocess(image, options);

        Assert.Equal((1, 52, 92), (f.GridT, f.GridH, f.GridW));
        Assert.Equal((4784, 1176), (f.Rows, f.Columns));
        Assert.Equal(1196, f.TokenCount);
        Assert.Equal((728, 1288), (f.ResizedHeight, f.ResizedWidth));
        Assert.Equal(4784 * 1176, f.PixelValues.Length);
    }

    [Fact]
    public void Preprocess_PositionCodedImage_FollowsSpecRowAndColumnOrder()
    {
        // 56x84 needs no resize (a multiple of 28 inside the budget); each pixel's R = x, G = y, B = 200.
        const int h = 56, w = 84, p = 14, m = 2, tp = 2;
        byte[] rgb = new byte[h * w * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                rgb[((y * w) + x) * 3] = (byte)x;
                rgb[(((y * w) + x) * 3) + 1] = (byte)y;
                rgb[(((y * w) + x) * 3) + 2] = 200;
            }
        }

        var options = Qwen2VLImageOptions.Default with { DoRescale = false, DoNormalize = false };

        var f = Qwen2VLImageProcessor.Preprocess(new RgbImage(rgb, w, h, "coded"), options);

        // MODEL_SPEC §3.2: rows (t, bh, bw, mh, mw); columns (c, tp, py, px).
        int gridH = h / p, gridW = w / p;
        Assert.Equal((gridH, gridW), (f.GridH, f.GridW));
        int row = 0;
        for (int bh = 0; bh < gridH / m; bh++)
        {
            for (int bw = 0; bw < gridW / m; bw++)
            {
                for (int mh = 0; mh < m; mh++)
                {
                    for (int mw = 0; mw < m; mw++, row++)
                    {
                        for (int c = 0; c < 3; c++)
                        {
                            for (int t = 0; t < tp; t++)
                            {
                                for (int py = 0; py < p; py++)
                                {
                                    for (int px = 0; px < p; px++)
                                    {
                                        int y = (((bh * m) + mh) * p) + py;
                                        int x = (((bw * m) + mw) * p) + px;
                                        float expected = c switch { 0 => x, 1 => y, _ => 200 };
                                        int col = (((((c * tp) + t) * p) + py) * p) + px;
                                        Assert.Equal(expected, f.PixelValues[(row * f.Columns) + col]);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void NormalizationTable_Defaults_IsFloat32RescaleThenFloat32Normalize()
    {
        float[] table = Qwen2VLImageProcessor.NormalizationTable(Qwen2VLImageOptions.Default);

        for (int c = 0; c < 3; c++)
        {
            float mean = (float)Qwen2VLImageOptions.OpenAIClipMean[c];
            float std = (float)Qwen2VLImageOptions.OpenAIClipStd[c];
            for (int v = 0; v < 256; v++)
            {
                float rescaled = (float)(v * (1.0 / 255.0)); // float64 multiply, one rounding to float32
                Assert.Equal((rescaled - mean) / std, table[(c * 256) + v]);
            }
        }

        // Spot values: 0 -> -mean/std, 255 -> (1 - mean)/std in float32.
        Assert.Equal(-1.7922626f, table[0], 6);
        Assert.Equal(2.1458969f, table[(2 * 256) + 255], 6);
    }

    [Fact]
    public void Preprocess_DoResizeFalseOnNonMultiple_ThrowsNamingImage()
    {
        var image = new RgbImage(new byte[30 * 30 * 3], 30, 30, "odd.png");
        var options = Qwen2VLImageOptions.Default with { DoResize = false };

        var ex = Assert.Throws<InvalidMediaException>(() => Qwen2VLImageProcessor.Preprocess(image, options));

        Assert.Contains("'odd.png'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Preprocess_InvalidOptions_ThrowsArgumentException()
    {
        var image = new RgbImage(new byte[28 * 28 * 3], 28, 28, "x.png");

        Assert.Throws<ArgumentException>(() => Qwen2VLImageProcessor.Preprocess(image, Qwen2VLImageOptions.Default with { ImageStd = [1, 0, 1] }));
    }
}

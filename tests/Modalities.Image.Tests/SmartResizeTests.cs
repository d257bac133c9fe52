using System.Text.Json;
using JudgeHost.Abstractions;

namespace Modalities.Image.Tests;

public sealed class SmartResizeTests
{
    [Theory]
    // Appendix B: 1280x720 stays within the checkpoint budget -> 1288x728 (grid 92x52).
    [InlineData(720, 1280, 3136, 12845056, 728, 1288)]
    // 70 / 28 = 2.5 rounds half to even -> 2 (56), not 3 (84).
    [InlineData(70, 130, 3136, 12845056, 56, 140)]
    // 42 / 28 = 1.5 -> 2 and 98 / 28 = 3.5 -> 4: half to even upwards.
    [InlineData(42, 98, 3136, 12845056, 56, 112)]
    // 126 / 28 = 4.5 -> 4: half to even downwards.
    [InlineData(126, 126, 3136, 12845056, 112, 112)]
    // Below min_pixels: beta = sqrt(3136 / 1200), ceil on both sides -> 56x84.
    [InlineData(30, 40, 3136, 12845056, 56, 84)]
    // Above max_pixels: floor on both sides after dividing by beta -> 168x252.
    [InlineData(1100, 1500, 3136, 50176, 168, 252)]
    // The max(28, .) guard: 30x1000 with max 784 would floor the short side to 0 without it (the result, 28x140,
    // is then above max_pixels, as in transformers).
    [InlineData(30, 1000, 28, 784, 28, 140)]
    // Thin: the short side rounds to one 28 block.
    [InlineData(1000, 30, 3136, 12845056, 1008, 28)]
    // Shorter than one patch: no minimum-size error in current transformers; rounds to 0, so upscaled via min_pixels.
    [InlineData(13, 700, 3136, 12845056, 28, 420)]
    public void SmartResize_KnownSizes_MatchTransformers(int h, int w, long min, long max, int expectedH, int expectedW)
    {
        var result = Qwen2VLImageProcessor.SmartResize(h, w, 28, min, max);

        Assert.Equal((expectedH, expectedW), result);
    }

    [Fact]
    public void SmartResize_ReferenceGrid_MatchesPortedPython()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.PathOf("smart_resize_cases.json")));
        int checkedCases = 0;
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            int h = c.GetProperty("height").GetInt32();
            int w = c.GetProperty("width").GetInt32();
            long min = c.GetProperty("min_pixels").GetInt64();
            long max = c.GetProperty("max_pixels").GetInt64();

            if (c.TryGetProperty("error", out _))
            {
                Assert.Throws<InvalidMediaException>(() => Qwen2VLImageProcessor.SmartResize(h, w, 28, min, max));
            }
            else
            {
                var expected = (c.GetProperty("resized_height").GetInt32(), c.GetProperty("resized_width").GetInt32());
                Assert.True(expected == Qwen2VLImageProcessor.SmartResize(h, w, 28, min, max), $"{h}x{w} min {min} max {max}");
            }

            checkedCases++;
        }

        Assert.True(checkedCases > 100);
    }

    [Theory]
    // 201:1 is over the limit of 200.
    [InlineData(10, 2010)]
    // And the other orientation.
    [InlineData(2010, 10)]
    public void SmartResize_AspectRatioOver200_ThrowsNamingTheImage(int h, int w)
    {
        var ex = Assert.Throws<InvalidMediaException>(() => Qwen2VLImageProcessor.SmartResize(h, w, 28, 3136, 12845056, "cat.png"));

        Assert.Contains("'cat.png'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("200", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.IsUserError);
    }

    [Fact]
    public void SmartResize_AspectRatioExactly200_IsAccepted()
    {
        var (h, w) = Qwen2VLImageProcessor.SmartResize(10, 2000, 28, 3136, 12845056);

        Assert.Equal(0, h % 28);
        Assert.Equal(0, w % 28);
    }
}

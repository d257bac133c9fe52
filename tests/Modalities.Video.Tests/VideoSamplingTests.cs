using JudgeHost.Abstractions;

namespace Modalities.Video.Tests;

/// <summary>Frame-count rules, frame indices and the per-frame pixel budget against qwen-vl-utils / torch.</summary>
public sealed class VideoSamplingTests
{
    [Fact]
    public void FrameIndices_EqualTorchLinspaceRound_ForEveryTabulatedPair()
    {
        int checkedPairs = 0;
        foreach (var row in VideoFixtures.Manifest.GetProperty("linspace").EnumerateArray())
        {
            int total = row.GetProperty("total").GetInt32();
            int n = row.GetProperty("n").GetInt32();
            int[] expected = row.GetProperty("indices").EnumerateArray().Select(v => v.GetInt32()).ToArray();

            Assert.Equal(expected, VideoSampling.FrameIndices(total, n));
            checkedPairs++;
        }

        Assert.True(checkedPairs > 50);
    }

    [Fact]
    public void FrameCount_EqualsSmartNframes_OrRefusesWhereTheReferenceRaises()
    {
        foreach (var row in VideoFixtures.Manifest.GetProperty("nframes").EnumerateArray())
        {
            int total = row.GetProperty("total").GetInt32();
            double fps = row.GetProperty("video_fps").GetDouble();
            var attributes = row.GetProperty("attributes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            var options = VideoSamplingOptions.Default.With(MediaItem.FromFile("video", "x.mp4") with { Attributes = attributes });
            var expected = row.GetProperty("nframes");

            if (expected.ValueKind == System.Text.Json.JsonValueKind.Null)
            {
                var e = Assert.Throws<InvalidMediaException>(() => VideoSampling.FrameCount(total, fps, options, "x.mp4"));
                Assert.Contains("x.mp4", e.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(expected.GetInt32(), VideoSampling.FrameCount(total, fps, options, "x.mp4"));
            }
        }
    }

    [Theory]
    [InlineData(240, 320, 6, 280, 392)]      // grown to >= 128*28*28 (values from qwen-vl-utils' formulas in Python)
    [InlineData(1080, 1920, 16, 560, 1008)]  // shrunk to <= VIDEO_MAX_PIXELS 768*28*28
    [InlineData(1080, 1920, 768, 336, 644)]  // VIDEO_TOTAL_PIXELS shared by 768 frames: 90316800 / 768 * 2
    [InlineData(64, 48, 4, 392, 280)]
    public void FrameSize_FollowsTheSharedPixelBudget(int height, int width, int frames, int expectedHeight, int expectedWidth)
    {
        var (h, w) = VideoSampling.FrameSize(height, width, frames, VideoSamplingOptions.Default, "v.mp4");

        Assert.Equal((expectedHeight, expectedWidth), (h, w));
        Assert.Equal(0, h % 28);
        Assert.Equal(0, w % 28);
    }

    [Fact]
    public void With_FpsAndNframesTogether_IsRefused()
    {
        var item = MediaItem.FromFile("video", "v.mp4") with { Attributes = new Dictionary<string, string> { ["fps"] = "1", ["nframes"] = "8" } };

        var e = Assert.Throws<InvalidMediaException>(() => VideoSamplingOptions.Default.With(item));

        Assert.Contains("either fps or nframes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fps", "0")]
    [InlineData("fps", "-1")]
    [InlineData("max_pixels", "lots")]
    [InlineData("nframes", "NaN")]
    public void With_BadAttribute_IsTypedErrorNamingIt(string key, string value)
    {
        var item = MediaItem.FromFile("video", "v.mp4") with { Attributes = new Dictionary<string, string> { [key] = value } };

        var e = Assert.Throws<InvalidMediaException>(() => VideoSamplingOptions.Default.With(item));

        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
    }
}

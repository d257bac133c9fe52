using JudgeHost.Abstractions;
using Modalities.Shared;
using static TorchSharp.torch;

namespace Modalities.Video.Tests;

/// <summary>Bad input gets typed errors naming the item; a good video encodes to its grid.</summary>
public sealed class VideoEncoderTests
{
    [Fact]
    public void Encode_Video_GivesMergedGridEmbeddingsAndSecondsPerTemporalPatch()
    {
        var c = VideoFixtures.Case("h264_small");
        using var encoder = VideoEncoderFixture.Create();

        var encoded = encoder.Encode(VideoFixtures.Item(c));
        using var embeddings = encoded.Embeddings;

        var grid = Assert.IsType<PositionLayout.Grid>(encoded.Layout);
        Assert.Equal((3, 3, 4), (grid.Temporal, grid.Height, grid.Width));
        Assert.Equal(1.0, grid.SecondsPerTemporalStep, 12);
        Assert.Equal(new long[] { 3 * 3 * 4, VideoFixtures.HiddenSize }, embeddings.shape);
        Assert.False(embeddings.isnan().any().item<bool>());
    }

    [Fact]
    public void Encode_LowerFps_StretchesSecondsPerTemporalPatch()
    {
        using var encoder = VideoEncoderFixture.Create();
        var item = VideoFixtures.Item(VideoFixtures.Case("h264_small")) with
        {
            Attributes = new Dictionary<string, string> { ["fps"] = "1", ["min_pixels"] = "3136", ["max_pixels"] = "12544" },
        };

        var encoded = encoder.Encode(item);
        encoded.Embeddings.Dispose();

        var grid = Assert.IsType<PositionLayout.Grid>(encoded.Layout);
        Assert.Equal(2, grid.Temporal);                          // 90 frames at 30 fps, 1 fps -> 3 -> clamped up to 4 frames
        Assert.Equal(1.5, grid.SecondsPerTemporalStep, 12);       // sample_fps = 4 / 90 * 30
    }

    [Theory]
    [InlineData("empty.mp4", "empty")]
    [InlineData("not_a_video.mp4", "not_a_video.mp4")]
    [InlineData("truncated.mp4", "truncated.mp4")]
    [InlineData("one_frame.mp4", "only 1 decodable frame")]
    [InlineData("audio_only.m4a", "no video stream")]
    [InlineData("missing.mp4", "does not exist")]
    public void Read_BadFile_IsInvalidMediaNamingTheFile(string file, string expected)
    {
        var reader = new FfmpegVideoReader(new VideoPluginSettings());
        string path = VideoFixtures.Video(file);

        var e = Assert.Throws<InvalidMediaException>(() => reader.Read(path, VideoSamplingOptions.Default, path));

        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.True(e.IsUserError);
    }

    [Fact]
    public void Read_ManyShortDecodesAtOnce_LoseNoFrames()
    {
        // FFMpegCore's named-pipe sink lost ~1 in 10 of these outputs under load (a 1-frame video read as 0 frames);
        // the reader's own stdout pipe must not.
        var reader = new FfmpegVideoReader(new VideoPluginSettings());
        string path = VideoFixtures.Video("one_frame.mp4");
        var messages = new System.Collections.Concurrent.ConcurrentBag<string>();

        Parallel.For(0, 24, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
            messages.Add(Assert.Throws<InvalidMediaException>(() => reader.Read(path, VideoSamplingOptions.Default, path)).Message));

        Assert.All(messages, m => Assert.Contains("only 1 decodable frame", m, StringComparison.Ordinal));
    }

    [Fact]
    public void Read_FrameAboveThePixelLimit_IsRefusedBeforeDecoding()
    {
        var reader = new FfmpegVideoReader(new VideoPluginSettings { MaxFramePixels = 320 * 240 - 1 });
        string path = VideoFixtures.Video("h264_320x240_30fps_3s.mp4");

        var e = Assert.Throws<InvalidMediaException>(() => reader.Read(path, VideoSamplingOptions.Default, path));

        Assert.Contains("MaxFramePixels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_LongerThanTheDurationLimit_IsRefused()
    {
        var reader = new FfmpegVideoReader(new VideoPluginSettings { MaxDurationSeconds = 2 });
        string path = VideoFixtures.Video("h264_320x240_30fps_3s.mp4");

        var e = Assert.Throws<InvalidMediaException>(() => reader.Read(path, VideoSamplingOptions.Default, path));

        Assert.Contains("MaxDurationSeconds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FfmpegMissing_IsTypedEnvironmentErrorSayingWhatToInstall()
    {
        string empty = Directory.CreateTempSubdirectory("no-ffmpeg-").FullName;
        try
        {
            var reader = new FfmpegVideoReader(new VideoPluginSettings { FfmpegFolder = empty });
            string path = VideoFixtures.Video("h264_320x240_30fps_3s.mp4");

            var e = Assert.Throws<FfmpegNotFoundException>(() => reader.Read(path, VideoSamplingOptions.Default, path));

            Assert.Contains("apt-get install ffmpeg", e.Message, StringComparison.Ordinal);
            Assert.True(e.IsUserError);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }
}

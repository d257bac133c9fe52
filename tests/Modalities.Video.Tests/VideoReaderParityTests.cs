using JudgeHost.Abstractions;
using Modalities.Image;
using Modalities.Image.Tests;
using Xunit.Abstractions;

namespace Modalities.Video.Tests;

/// <summary>
/// Each committed video through the plugin's reader and processor against the reference pipeline
/// (tools/video/make_video_fixtures.py: ffmpeg decode, qwen-vl-utils sampling and budget, torchvision resize,
/// HF slow-processor normalize/patchify).
/// </summary>
public sealed class VideoReaderParityTests(ITestOutputHelper output)
{
    /// <summary>
    /// The resize runs libtorch 2.10's antialiased bicubic kernel; the fixtures come from torch 1.13, whose float
    /// arithmetic differs by ~1e-4 before rounding (measured on random frames too: same rate). A value that lands
    /// within that of .5 rounds the other way: measured 0.004% to 0.023% of bytes, never more than one level (the
    /// most where frames are upscaled). Allowed: 1-level differences in at most 1 byte in 2,000.
    /// </summary>
    private const double MaxFlipFraction = 1.0 / 2_000;

    public static TheoryData<string> CaseIds => VideoFixtures.CaseIds();

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Read_Fixture_SamplesTheReferenceFramesAndSizes(string id)
    {
        var c = VideoFixtures.Case(id);
        var item = VideoFixtures.Item(c);
        var reader = new FfmpegVideoReader(new VideoPluginSettings());

        var video = reader.Read(item.Path!, VideoSamplingOptions.Default.With(item), id);

        Assert.Equal(c.GetProperty("total_frames").GetInt32(), video.TotalFrames);
        Assert.Equal(c.GetProperty("indices").EnumerateArray().Select(v => v.GetInt32()), video.Indices);
        Assert.Equal((c.GetProperty("resized_width").GetInt32(), c.GetProperty("resized_height").GetInt32()), (video.Width, video.Height));
        Assert.Equal(c.GetProperty("sample_fps").GetDouble(), video.SampleFps, 12);

        var expected = Npz.Load(VideoFixtures.PathOf(c.GetProperty("expected").GetString()!)).UInt8("resized_frames");
        byte[] actual = video.Frames.SelectMany(f => f).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        int flips = 0;
        int maxDiff = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            int d = Math.Abs(actual[i] - expected[i]);
            flips += d > 0 ? 1 : 0;
            maxDiff = Math.Max(maxDiff, d);
        }

        output.WriteLine($"{id}: {video.Frames.Count} frames {video.Width}x{video.Height}; {flips} of {actual.Length} bytes differ (max {maxDiff}) from torchvision on torch 1.13.");
        Assert.True(maxDiff <= 1, $"{id}: resized frames differ by up to {maxDiff} levels.");
        Assert.True(flips <= Math.Max(1, actual.Length * MaxFlipFraction), $"{id}: {flips} bytes differ.");
    }

    [Fact]
    public void Preprocess_SmallCase_MatchesPixelValuesGridAndSecondsPerStep()
    {
        var c = VideoFixtures.Case("h264_small");
        var npz = Npz.Load(VideoFixtures.PathOf(c.GetProperty("expected").GetString()!));
        using var encoder = VideoEncoderFixture.Create();

        var tensors = encoder.Preprocess(VideoFixtures.Item(c));

        Assert.Equal(npz.Int64("video_grid_thw"), tensors["video_grid_thw"].data<long>().ToArray());
        Assert.Equal(npz.Float32("second_per_grid_ts")[0], tensors["second_per_grid_ts"].data<float>()[0]);
        float[] expected = npz.Float32("pixel_values_videos");
        float[] actual = tensors["pixel_values_videos"].data<float>().ToArray();
        Assert.Equal(npz.Shape("pixel_values_videos").Select(v => (long)v), tensors["pixel_values_videos"].shape);
        int within = 0;
        double maxDiff = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            within += d <= 1e-5 ? 1 : 0;
            maxDiff = Math.Max(maxDiff, d);
        }

        output.WriteLine($"pixel_values_videos: {within} of {actual.Length} within 1e-5, max |diff| {maxDiff:E2} (one uint8 level = {1 / 255.0 / 0.26130258:E2}).");
        Assert.True(actual.Length - within <= Math.Max(1, actual.Length * MaxFlipFraction));
        Assert.True(maxDiff <= (1 / 255.0 / 0.26130258) + 1e-5);
    }

    [Fact]
    public void Patchify_TwoDifferentFrames_PutsFrameZeroThenFrameOneInEachTemporalPatch()
    {
        // 28x28 frames: frame 0 all level 10, frame 1 all level 200; one temporal patch, 4 patches of 1176 values.
        byte[] f0 = Enumerable.Repeat((byte)10, 28 * 28 * 3).ToArray();
        byte[] f1 = Enumerable.Repeat((byte)200, 28 * 28 * 3).ToArray();
        var options = Qwen2VLImageOptions.Default;
        float[] table = Qwen2VLImageProcessor.NormalizationTable(options);

        var features = Qwen2VLImageProcessor.Patchify([f0, f1, f0], 28, 28, table, options);

        Assert.Equal((2, 2, 2), (features.GridT, features.GridH, features.GridW));
        Assert.Equal(8 * 1176, features.PixelValues.Length);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(table[(c * 256) + 10], features.PixelValues[((c * 2) + 0) * 196]);       // t=0, frame 0
            Assert.Equal(table[(c * 256) + 200], features.PixelValues[((c * 2) + 1) * 196]);      // t=0, frame 1
            Assert.Equal(table[(c * 256) + 10], features.PixelValues[(4 * 1176) + (((c * 2) + 1) * 196)]); // t=1: last frame repeated
        }
    }
}

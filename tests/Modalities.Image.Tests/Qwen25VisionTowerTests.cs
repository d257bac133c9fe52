using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace Modalities.Image.Tests;

/// <summary>
/// The vision tower against the committed reference (tools/parity/make_vl_fixtures.py, a plain-PyTorch port of
/// transformers Qwen2_5_VisionTransformerPretrainedModel): two images whose merged grid pads the 4x4 windows, and a
/// two-step video.
/// </summary>
public sealed class Qwen25VisionTowerTests
{
    private static string Dir => Path.Combine(Path.GetDirectoryName(Fixtures.Root)!, "..", "JudgeHost.Tests", "Fixtures", "parity", "qwen25vl-tiny");

    private static (Qwen25VisionTower Tower, SafeTensorsFile Reference) Load()
    {
        var config = Qwen25VisionConfig.From(ModelConfigFile.Read(Dir));
        using var files = CheckpointFiles.Open(Dir);
        var tower = new Qwen25VisionTower(config);
        tower.Load(files.WithPrefix("visual."));
        return (tower, SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors")));
    }

    private static List<(int, int, int)> Grids(Tensor thw)
    {
        long[] v = thw.data<long>().ToArray();
        return Enumerable.Range(0, v.Length / 3).Select(i => ((int)v[3 * i], (int)v[(3 * i) + 1], (int)v[(3 * i) + 2])).ToList();
    }

    [Fact]
    public void Images_MatchTheReferenceWithin1e4()
    {
        var (tower, reference) = Load();
        using (tower)
        using (reference)
        {
            using var pixels = reference.Load("pixel_values");
            using var grid = reference.Load("image_grid_thw");
            using var expected = reference.Load("vision_output");

            using var output = tower.forward(pixels, Grids(grid));

            Assert.Equal(expected.shape, output.shape);
            double diff = (output - expected).abs().max().item<float>();
            Assert.True(diff <= 1e-4, $"max |diff| = {diff:E2}");
        }
    }

    [Fact]
    public void Video_MatchesTheReferenceWithin1e4()
    {
        var (tower, reference) = Load();
        using (tower)
        using (reference)
        {
            using var pixels = reference.Load("pixel_values_videos");
            using var grid = reference.Load("video_grid_thw");
            using var expected = reference.Load("video_vision_output");

            using var output = tower.forward(pixels, Grids(grid));

            double diff = (output - expected).abs().max().item<float>();
            Assert.True(diff <= 1e-4, $"max |diff| = {diff:E2}");
        }
    }

    [Fact]
    public void Load_MissingTensor_IsTypedErrorNamingIt()
    {
        var config = Qwen25VisionConfig.From(ModelConfigFile.Read(Dir)) with { Depth = 5 };
        using var files = CheckpointFiles.Open(Dir);
        using var tower = new Qwen25VisionTower(config);

        var e = Assert.Throws<MissingWeightsException>(() => tower.Load(files.WithPrefix("visual.")));
        Assert.Contains("missing visual.blocks.4.norm1.weight", e.Message, StringComparison.Ordinal);
    }
}

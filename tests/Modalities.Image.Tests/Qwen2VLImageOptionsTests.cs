using JudgeHost.Abstractions;

namespace Modalities.Image.Tests;

public sealed class Qwen2VLImageOptionsTests
{
    // Qwen2.5-VL-7B-Instruct's preprocessor_config.json as released.
    private const string Released = """
        {
          "min_pixels": 3136,
          "max_pixels": 12845056,
          "patch_size": 14,
          "temporal_patch_size": 2,
          "merge_size": 2,
          "image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_std": [0.26862954, 0.26130258, 0.27577711],
          "image_processor_type": "Qwen2VLImageProcessor",
          "processor_class": "Qwen2_5_VLProcessor"
        }
        """;

    [Fact]
    public void Default_IsTransformersClassDefaults()
    {
        var o = Qwen2VLImageOptions.Default;

        Assert.Equal((3136L, 1003520L), (o.MinPixels, o.MaxPixels));
        Assert.Equal((14, 2, 2, 28), (o.PatchSize, o.TemporalPatchSize, o.MergeSize, o.Factor));
        Assert.Equal(1.0 / 255.0, o.RescaleFactor);
    }

    [Fact]
    public void FromJson_ReleasedConfig_ReadsMinAndMaxPixels()
    {
        var o = Qwen2VLImageOptions.FromPreprocessorConfigJson(Released, "preprocessor_config.json");

        Assert.Equal((3136L, 12845056L), (o.MinPixels, o.MaxPixels));
        Assert.Equal(Qwen2VLImageOptions.OpenAIClipMean, o.ImageMean);
        Assert.Equal(Qwen2VLImageOptions.OpenAIClipStd, o.ImageStd);
    }

    [Theory]
    // transformers >= 4.50 saves the budget as size.{shortest_edge, longest_edge}.
    [InlineData("""{"size": {"shortest_edge": 1000, "longest_edge": 20000}}""", 1000, 20000)]
    // The first Qwen2-VL release stored size.{min_pixels, max_pixels}.
    [InlineData("""{"size": {"min_pixels": 1001, "max_pixels": 20001}}""", 1001, 20001)]
    // Top-level keys override size, as in the HF constructor.
    [InlineData("""{"min_pixels": 5, "size": {"shortest_edge": 1000, "longest_edge": 20000}}""", 5, 20000)]
    // Nothing given: class defaults.
    [InlineData("""{"patch_size": 14}""", 3136, 1003520)]
    public void FromJson_PixelBudgetKeys_FollowTransformersPrecedence(string json, long min, long max)
    {
        var o = Qwen2VLImageOptions.FromPreprocessorConfigJson(json, "cfg.json");

        Assert.Equal((min, max), (o.MinPixels, o.MaxPixels));
    }

    [Fact]
    public void FromJson_Override_WithExpression()
    {
        var o = Qwen2VLImageOptions.FromPreprocessorConfigJson(Released, "cfg.json") with { MaxPixels = 50176 };

        Assert.Equal(50176, o.MaxPixels);
        Assert.Equal(3136, o.MinPixels);
    }

    [Theory]
    // Not JSON.
    [InlineData("{ not json")]
    // Wrong type.
    [InlineData("""{"min_pixels": "many"}""")]
    // A resample filter other than BICUBIC.
    [InlineData("""{"resample": 2}""")]
    // Two-channel normalisation.
    [InlineData("""{"image_mean": [0.5, 0.5]}""")]
    // Zero std.
    [InlineData("""{"image_std": [0.5, 0, 0.5]}""")]
    // A JSON array, not an object.
    [InlineData("[]")]
    public void FromJson_BadConfig_ThrowsCorruptCheckpointNamingFile(string json)
    {
        var ex = Assert.Throws<CorruptCheckpointException>(() => Qwen2VLImageOptions.FromPreprocessorConfigJson(json, "ckpt/preprocessor_config.json"));

        Assert.Contains("'ckpt/preprocessor_config.json'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromPreprocessorConfig_File_IsRead()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, Released);

            var o = Qwen2VLImageOptions.FromPreprocessorConfig(path);

            Assert.Equal(12845056, o.MaxPixels);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

using System.Text.Json;
using JudgeHost.Backbone;

namespace JudgeHost.Tests.Cli;

/// <summary>
/// Images end to end through the in-repo image plugin (built into plugins/ by the solution) on a tiny random
/// Qwen2.5-VL checkpoint: decode, Qwen2-VL preprocessing, vision tower, M-RoPE splice, judging.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ImageJudgeTests() : TinyVisionCliTests("Modalities.Image")
{
    private static readonly string Photo = Path.Combine(RepoPaths.Root, "tests", "Modalities.Image.Tests", "Fixtures", "images", "photo_q90_320x240.jpg");

    [Fact]
    public async Task PluginsList_ShowsTheImagePlugin()
    {
        var result = await CliRunner.RunAsync("plugins", "list", "--plugins-dir", Plugins.Path);

        Assert.Matches(@"Image\s+image\s+\S+\s+loaded", result.Output);
    }

    [Fact]
    public async Task InspectEncode_Image_GivesOneTokenPerMergedPatchAsAGrid()
    {
        var result = await CliRunner.RunAsync("inspect", "encode", "--plugins-dir", Plugins.Path, "--modality", "image", "--model", TinyVL(), "--path", Photo);

        Assert.True(result.ExitCode == 0, result.Error);
        using var doc = JsonDocument.Parse(result.Output);
        // 320x240 -> smart_resize 308x252 -> 22x18 patches -> 11x9 merged tokens.
        Assert.Equal(99, doc.RootElement.GetProperty("tokens").GetInt32());
        var layout = doc.RootElement.GetProperty("layout");
        Assert.Equal("grid", layout.GetProperty("kind").GetString());
        Assert.Equal(9, layout.GetProperty("h").GetInt32());
        Assert.Equal(11, layout.GetProperty("w").GetInt32());
    }

    [Fact]
    public async Task InspectPreprocess_Image_WritesPixelValuesAndGrid()
    {
        string outFile = Dir.Combine("pre.safetensors");

        var result = await CliRunner.RunAsync("inspect", "preprocess", "--plugins-dir", Plugins.Path, "--model", TinyVL(), "--image", Photo, "--out", outFile);

        Assert.True(result.ExitCode == 0, result.Error);
        using var file = SafeTensorsFile.Open(outFile);
        Assert.Equal([396L, 1176L], file["pixel_values"].Shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, file["pixel_values"].DType);
        using var grid = file.Load("image_grid_thw");
        Assert.Equal([1L, 18, 22], grid.data<long>().ToArray());
    }

    [Fact]
    public async Task GenerateAndLogits_WithImage_ApplyTheChatTemplateWithVisionTokens()
    {
        string outFile = Dir.Combine("logits.safetensors");

        var generate = await CliRunner.RunAsync("generate", "--plugins-dir", Plugins.Path, "--model", TinyVL(), "--image", Photo, "--prompt", "Describe it.", "--chat",
            "--max-new-tokens", "3", "--dtype", "float32");
        var logits = await CliRunner.RunAsync("inspect", "logits", "--plugins-dir", Plugins.Path, "--model", TinyVL(), "--image", Photo, "--prompt", "Describe it.", "--chat", "--out", outFile);
        var textOnly = await CliRunner.RunAsync("inspect", "logits", "--model", TinyVL(), "--prompt", "Describe it.", "--chat", "--out", Dir.Combine("text.safetensors"));

        Assert.True(generate.ExitCode == 0, generate.Error);
        Assert.Equal(3, JsonDocument.Parse(generate.Output).RootElement.GetProperty("ids").GetArrayLength());
        Assert.True(logits.ExitCode == 0, logits.Error);
        Assert.True(textOnly.ExitCode == 0, textOnly.Error);
        using var withImage = SafeTensorsFile.Open(outFile);
        using var text = SafeTensorsFile.Open(Dir.Combine("text.safetensors"));
        // The image adds <|vision_start|>, 99 embedding rows and <|vision_end|>.
        Assert.Equal(text["logits"].Shape[0] + 101, withImage["logits"].Shape[0]);
    }

    [Fact]
    public async Task InspectPreprocess_VideoWithoutVideoPlugin_IsUserError()
    {
        var result = await CliRunner.RunAsync("inspect", "preprocess", "--plugins-dir", Plugins.Path, "--model", TinyVL(), "--video", "clip.mp4", "--out", Dir.Combine("v.safetensors"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("No loaded plugin provides modality 'video'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Judge_WithImages_EveryTaskRuns_AndABadImageFailsOnlyItsRequest()
    {
        string corrupt = Dir.Combine("corrupt.png");
        await File.WriteAllBytesAsync(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        string input = Dir.Combine("requests.jsonl");
        string media = $$"""[{"modality":"image","path":"{{Photo}}"}]""";
        await File.WriteAllLinesAsync(input,
        [
            $$"""{"id":"pair","task":"pairwise","instruction":"Which caption fits?","media":{{media}},"candidates":["A cat.","A truck."]}""",
            $$"""{"id":"score","task":"pointwise","instruction":"Caption quality?","media":{{media}},"candidates":["A photo."]}""",
            $$"""{"id":"rank","task":"ranking","instruction":"Rank the captions.","media":{{media}},"candidates":["a","b","c"]}""",
            "{\"id\":\"two-images\",\"task\":\"binary\",\"instruction\":\"Are both natural?\",\"aspect\":\"naturalness\",\"media\":[{\"modality\":\"image\",\"path\":\"" + Photo + "\"},{\"modality\":\"image\",\"path\":\"" + Photo + "\",\"attributes\":{\"max_pixels\":\"12544\"}}]}",
            $$"""{"id":"bad","task":"binary","instruction":"Natural?","aspect":"naturalness","media":[{"modality":"image","path":"{{corrupt}}"}]}""",
        ]);
        string output = Dir.Combine("results.jsonl");

        var result = await CliRunner.RunAsync("judge", "--plugins-dir", Plugins.Path, "--model", TinyVL(), "--input", input, "--output", output, "--max-new-tokens", "4", "--dtype", "float32");

        Assert.Equal(2, result.ExitCode);
        var records = (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["unparsed", "unparsed", "unparsed", "unparsed", "error"], records.Select(r => r.GetProperty("status").GetString()));
        Assert.Contains("corrupt.png", records[4].GetProperty("error").GetString(), StringComparison.Ordinal);
        // The 99 image tokens are in every prompt; the second image of "two-images" is capped to 12544 px (16 tokens).
        Assert.True(records[1].GetProperty("prompt_tokens").GetInt32() > 99);
        Assert.True(records[3].GetProperty("prompt_tokens").GetInt32() > 99 + 16);
    }
}

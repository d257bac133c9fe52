using System.Text.Json;
using JudgeHost.Backbone;

namespace JudgeHost.Tests.Cli;

/// <summary>
/// Videos end to end through the in-repo video plugin (with the image plugin beside it) on a tiny random Qwen2.5-VL
/// checkpoint: ffmpeg decode, frame sampling, temporal patches, vision tower, M-RoPE with video time, judging.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class VideoJudgeTests() : TinyVisionCliTests("Modalities.Image", "Modalities.Video")
{
    private static readonly string Videos = Path.Combine(RepoPaths.Root, "tests", "Modalities.Video.Tests", "Fixtures", "videos");
    private static readonly string Clip = Path.Combine(Videos, "h264_320x240_30fps_3s.mp4");
    private static readonly string Photo = Path.Combine(RepoPaths.Root, "tests", "Modalities.Image.Tests", "Fixtures", "images", "photo_q90_320x240.jpg");

    [Fact]
    public async Task InspectPreprocess_Video_WritesPixelValuesVideosGridAndSeconds()
    {
        string outFile = Dir.Combine("v.safetensors");

        var result = await CliRunner.RunAsync("inspect", "preprocess", "--plugins-dir", Plugins.Path, "--model", TinyVL(), "--video", Clip, "--out", outFile);

        Assert.True(result.ExitCode == 0, result.Error);
        using var file = SafeTensorsFile.Open(outFile);
        Assert.Equal([1680L, 1176L], file["pixel_values_videos"].Shape);   // 3 x 20 x 28 patches
        using var grid = file.Load("video_grid_thw");
        Assert.Equal([3L, 20L, 28L], grid.data<long>().ToArray());
        using var seconds = file.Load("second_per_grid_ts");
        Assert.Equal(1f, seconds.data<float>()[0]);
    }

    [Fact]
    public async Task Generate_WithVideo_AddsTheVideoTokensToThePrompt()
    {
        string textOnly = Dir.Combine("t.safetensors");
        string withVideo = Dir.Combine("v.safetensors");

        var a = await CliRunner.RunAsync("inspect", "logits", "--plugins-dir", Plugins.Path, "--model", TinyVL(), "--prompt", "Describe it.", "--chat", "--out", textOnly);
        var b = await CliRunner.RunAsync("inspect", "logits", "--plugins-dir", Plugins.Path, "--model", TinyVL(), "--video", Path.Combine(Videos, "h264_320x240_30fps_3s.mp4"), "--prompt", "Describe it.", "--chat", "--out", withVideo);

        Assert.True(a.ExitCode == 0, a.Error);
        Assert.True(b.ExitCode == 0, b.Error);
        using var t = SafeTensorsFile.Open(textOnly);
        using var v = SafeTensorsFile.Open(withVideo);
        // 3 x 10 x 14 merged video tokens plus <|vision_start|> and <|vision_end|>.
        Assert.Equal(t["logits"].Shape[0] + 420 + 2, v["logits"].Shape[0]);
    }

    [Fact]
    public async Task Judge_WithVideos_EveryTaskRuns_AndABadVideoFailsOnlyItsRequest()
    {
        string small = """{"min_pixels":"3136","max_pixels":"12544"}""";
        string media = $$"""[{"modality":"video","path":"{{Clip}}","attributes":{{small}}}]""";
        string webm = Path.Combine(Videos, "vp9_256x144_24fps_2s.webm");
        string mixed = $$$"""[{"modality":"video","path":"{{{webm}}}","attributes":{{{small}}}},{"modality":"image","path":"{{{Photo}}}","attributes":{"max_pixels":"12544"}}]""";
        string input = Dir.Combine("requests.jsonl");
        await File.WriteAllLinesAsync(input,
        [
            $$"""{"id":"pair","task":"pairwise","instruction":"Which description fits?","media":{{media}},"candidates":["A test pattern.","A beach."]}""",
            $$"""{"id":"score","task":"pointwise","instruction":"Description quality?","media":{{media}},"candidates":["A test pattern."]}""",
            $$"""{"id":"rank","task":"ranking","instruction":"Rank the descriptions.","media":{{media}},"candidates":["a","b","c"]}""",
            $$"""{"id":"mixed","task":"binary","instruction":"Do they match?","aspect":"consistency","media":{{mixed}}}""",
            $$"""{"id":"bad","task":"binary","instruction":"Natural?","aspect":"naturalness","media":[{"modality":"video","path":"{{Path.Combine(Videos, "one_frame.mp4")}}"}]}""",
        ]);
        string output = Dir.Combine("results.jsonl");

        var result = await CliRunner.RunAsync("judge", "--plugins-dir", Plugins.Path, "--model", TinyVL(), "--input", input, "--output", output, "--max-new-tokens", "4", "--dtype", "float32");

        Assert.Equal(2, result.ExitCode);
        var records = (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["unparsed", "unparsed", "unparsed", "unparsed", "error"], records.Select(r => r.GetProperty("status").GetString()));
        Assert.Contains("one_frame.mp4", records[4].GetProperty("error").GetString(), StringComparison.Ordinal);
        // 6 frames of 112x84 -> 3 x 3 x 4 = 36 merged tokens in every video prompt.
        Assert.True(records[1].GetProperty("prompt_tokens").GetInt32() > 36);
    }
}

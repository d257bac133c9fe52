using System.Text.Json;
using JudgeHost.Backbone;
using Xunit.Abstractions;

namespace JudgeHost.Tests.Cli;

/// <summary>
/// The Qwen2.5-Omni thinker end to end through the CLI, the audio plugin and the image plugin: chat prompts with
/// audio, audio + image and text only against tools/audio/make_omni_thinker_fixtures.py (Omni chat template, framing
/// tokens, audio and vision towers, the thinker's get_rope_index, logits and greedy decoding), and
/// <c>tools make-tiny --family qwen2_5_omni</c>'s checkpoint in the released layout.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class OmniThinkerTests(ITestOutputHelper log) : TinyVisionCliTests("Modalities.Audio", "Modalities.Image", "Modalities.Video")
{
    private static readonly string Fixture = Path.Combine(RepoPaths.Fixtures, "parity", "qwen25omni-tiny");
    private static readonly string Speech = Path.Combine(RepoPaths.Root, "tests", "Modalities.Audio.Tests", "Fixtures", "audio", "speech_22050_s16.wav");
    private static readonly string Photo = Path.Combine(RepoPaths.Root, "tests", "Modalities.Image.Tests", "Fixtures", "images", "photo_q90_320x240.jpg");
    private static readonly string Clip = Path.Combine(RepoPaths.Root, "tests", "Modalities.Video.Tests", "Fixtures", "videos", "h264_320x240_30fps_3s.mp4");

    [Theory]
    [InlineData("audio")]         // audio only: <|audio_bos|> + 25 x <|AUDIO|> + <|audio_eos|>, 1-D positions on all three rows
    [InlineData("audio_image")]   // image then audio: the multimodal position walk (image grid, then consecutive audio), rope delta -18
    [InlineData("text")]          // no media through the Omni thinker
    public async Task InspectLogits_OmniChatPrompt_MatchesTheReferenceWithin1e4(string name)
    {
        var (media, prompt) = Prompt(name);
        string outFile = Dir.Combine(name + ".safetensors");
        var args = new List<string> { "inspect", "logits", "--plugins-dir", Plugins.Path, "--model", Fixture, "--prompt", prompt, "--chat", "--out", outFile };
        args.AddRange(MediaArgs(media));

        var result = await CliRunner.RunAsync([.. args]);

        Assert.True(result.ExitCode == 0, result.Error);
        using var reference = SafeTensorsFile.Open(Path.Combine(Fixture, "reference.safetensors"));
        using var expected = reference.Load(name + ".logits");
        using var file = SafeTensorsFile.Open(outFile);
        using var actual = file.Load("logits");
        Assert.Equal(expected.shape, actual.shape);
        double diff = (actual - expected).abs().max().item<float>();
        log.WriteLine($"{name}: {actual.shape[0]} positions, logits max |diff| {diff:E2}");
        Assert.True(diff <= 1e-4, $"max |diff| {diff:E2}");
    }

    [Fact]
    public async Task Generate_ImageAndAudio_ContinuesWithTheReferenceGreedyTokens()
    {
        // Decoding after the media uses cache position + rope delta (-18) on all three rows.
        var (media, prompt) = Prompt("audio_image");
        var args = new List<string> { "generate", "--plugins-dir", Plugins.Path, "--model", Fixture, "--prompt", prompt, "--chat", "--dtype", "float32", "--ignore-eos", "--max-new-tokens", "8" };
        args.AddRange(MediaArgs(media));

        var result = await CliRunner.RunAsync([.. args]);

        Assert.True(result.ExitCode == 0, result.Error);
        using var reference = SafeTensorsFile.Open(Path.Combine(Fixture, "reference.safetensors"));
        using var greedy = reference.Load("audio_image.greedy_ids");
        var ids = JsonDocument.Parse(result.Output).RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(greedy.data<long>().ToArray(), ids);
    }

    [Fact]
    public async Task MakeTiny_Omni_WritesTheReleasedLayoutThatRunsAudioImageAndVideo()
    {
        string dir = Dir.Combine("made");

        var make = await CliRunner.RunAsync("tools", "make-tiny", "--family", "qwen2_5_omni", "--tokenizer", Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), "--out", dir, "--seed", "3");

        Assert.True(make.ExitCode == 0, make.Error);
        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "config.json")));
        var thinker = config.RootElement.GetProperty("thinker_config");
        Assert.Equal("qwen2_5_omni", config.RootElement.GetProperty("model_type").GetString());
        foreach (string section in new[] { "audio_config", "vision_config", "text_config" })
        {
            Assert.Equal(JsonValueKind.Object, thinker.GetProperty(section).ValueKind);
        }

        var tokenizer = HfTokenizer.Load(dir);
        Assert.Equal(151646, tokenizer.TokenToId("<|AUDIO|>"));
        Assert.Equal(thinker.GetProperty("audio_start_token_id").GetInt32(), tokenizer.TokenToId("<|audio_bos|>"));
        Assert.Equal(thinker.GetProperty("vision_end_token_id").GetInt32(), tokenizer.TokenToId("<|vision_eos|>"));
        using (var weights = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors")))
        {
            var names = weights.Entries.Select(e => e.Name).ToHashSet();
            Assert.Contains("thinker.lm_head.weight", names);
            Assert.Contains("thinker.model.embed_tokens.weight", names);
            Assert.Contains("thinker.audio_tower.layers.0.self_attn.k_proj.weight", names);
            Assert.DoesNotContain("thinker.audio_tower.layers.0.self_attn.k_proj.bias", names);
            Assert.Contains("thinker.visual.blocks.0.attn.q.weight", names);
            Assert.DoesNotContain("thinker.visual.blocks.0.attn.qkv.weight", names);
        }

        // The 1.0-s recording: 25 audio tokens framed by bos/eos; the photo: 99 image tokens framed;
        // the 3-s clip at 2 fps: 3 temporal patches x 10 x 14 merged tokens, all framed by <|vision_bos|>/<|vision_eos|>.
        async Task<long> Rows(params string[] media)
        {
            string outFile = Dir.Combine($"rows-{Guid.NewGuid():N}.safetensors");
            var run = await CliRunner.RunAsync(["inspect", "logits", "--plugins-dir", Plugins.Path, "--model", dir, "--prompt", "Rate it.", "--chat", "--out", outFile, .. media]);
            Assert.True(run.ExitCode == 0, run.Error);
            using var file = SafeTensorsFile.Open(outFile);
            return file["logits"].Shape[0];
        }

        long text = await Rows();
        Assert.Equal(text + 27, await Rows("--audio", Speech));
        Assert.Equal(text + 101, await Rows("--image", Photo));
        Assert.Equal(text + 101 + 27, await Rows("--image", Photo, "--audio", Speech));
        Assert.Equal(text + 422, await Rows("--video", Clip));
    }

    private static (string[] Media, string Prompt) Prompt(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture, "reference.json")));
        var entry = doc.RootElement.GetProperty("prompts").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);
        return (entry.GetProperty("media").EnumerateArray().Select(e => e.GetString()!).ToArray(), entry.GetProperty("prompt").GetString()!);
    }

    // The CLI places images before audio, as the reference prompts do.
    private static IEnumerable<string> MediaArgs(string[] media) => media.SelectMany(m => m switch
    {
        "audio" => new[] { "--audio", Speech },
        "image" => new[] { "--image", Path.Combine(Fixture, "image_168x112.png") },
        _ => throw new ArgumentOutOfRangeException(nameof(media), m, "unknown medium"),
    });
}

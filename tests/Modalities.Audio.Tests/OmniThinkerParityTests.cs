using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Audio.Tests;

/// <summary>
/// The Qwen2.5-Omni thinker's text path with audio spliced in, against tools/audio/make_audio_encoder_fixtures.py's
/// port (audio features over the &lt;|AUDIO|&gt; rows, audio-only get_rope_index = consecutive positions on all three
/// M-RoPE streams, Qwen2 decoder): config from thinker_config.text_config, weights under thinker.model.* / thinker.lm_head.
/// </summary>
public sealed class OmniThinkerParityTests(ITestOutputHelper output)
{
    private static string Dir => Fixtures.PathOf(Path.Combine("encoder", "qwen25omni-tiny"));

    [Fact]
    public void DecoderConfig_OmniCheckpoint_ReadsTheThinkersTextConfigAndTokenIds()
    {
        var config = DecoderConfig.Load(Dir);

        Assert.Equal("qwen2_5_omni", config.ModelType);
        Assert.Equal((64, 2, 4, 2, 320), (config.HiddenSize, config.NumHiddenLayers, config.NumAttentionHeads, config.KeyValueHeads, config.VocabSize));
        Assert.Equal(new[] { 2, 3, 3 }, config.RopeScaling!.MropeSection);
        Assert.Equal((293, 294, 295), (config.AudioTokenId, config.AudioStartTokenId, config.AudioEndTokenId));
        Assert.Equal((302, 303, 299, 300), (config.ImageTokenId, config.VideoTokenId, config.VisionStartTokenId, config.VisionEndTokenId));
        Assert.Equal([292], DecoderConfig.ReadIds(config.EosTokenId));
        Assert.True(config.QkvBias);
        Assert.Equal("thinker.", config.WeightPrefix);
    }

    [Theory]
    [InlineData(0, "speech_22050_s16")]
    [InlineData(1, "tone_48000_f32")]
    public void Logits_WithAudioSplicedIn_MatchTheReferenceWithin1e4(int prompt, string audio)
    {
        var (model, _) = CheckpointLoader.Load(Dir, ScalarType.Float32, CPU);
        using (model)
        using (var files = CheckpointFiles.Open(Dir))
        using (var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors")))
        using (var encoder = new Qwen25OmniAudioEncoderFactory(AudioPluginSettings.Default).Create(new EncoderContext
        {
            Family = "qwen2_5_omni",
            Config = ModelConfigFile.Read(Dir),
            HiddenSize = model.Config.HiddenSize,
            Device = CPU,
            DType = ScalarType.Float32,
            Weights = files.WithPrefix("thinker.audio_tower."),
            ModelDirectory = Dir,
            Logger = NullLogger.Instance,
        }))
        {
            using var scope = NewDisposeScope();
            var ids = reference.Load($"prompt{prompt}.input_ids").data<long>().ToArray();
            var expected = reference.Load($"prompt{prompt}.logits");
            var encoded = encoder.Encode(MediaItem.FromFile("audio", Fixtures.PathOf(AudioFile(audio))));
            int audioToken = model.Config.AudioTokenId!.Value;
            int first = Array.IndexOf(ids, (long)audioToken);
            Assert.Equal(ids.Count(i => i == audioToken), encoded.TokenCount);
            Assert.Equal(model.Config.AudioStartTokenId, (int)ids[first - 1]);
            Assert.Equal(model.Config.AudioEndTokenId, (int)ids[first + encoded.TokenCount]);

            // The host's splice: text rows from embed_tokens, the placeholder run replaced by the encoder's rows;
            // positions from the contract layouts (a Sequence advances like text on all three streams).
            var embeds = model.Embed(tensor(ids).view(1, -1)).clone();
            embeds[0].narrow(0, first, encoded.TokenCount).copy_(encoded.Embeddings);
            var (positions, delta) = MropePositions.Build(
                [new PositionSegment.Text(first), new PositionSegment.Media(encoded.Layout), new PositionSegment.Text(ids.Length - first - encoded.TokenCount)], 25);
            Assert.Equal(0, delta);
            var positionIds = tensor(positions).view(3, 1, ids.Length);
            using var cache = model.NewCache(1, ids.Length);
            var logits = model.Forward(embeds, positionIds, ones(1, ids.Length, dtype: ScalarType.Bool), cache)[0];

            double diff = (logits - expected).abs().max().item<float>();
            output.WriteLine($"prompt {prompt}: {ids.Length} tokens ({encoded.TokenCount} audio), logits max |diff| {diff:E2}");
            Assert.True(diff <= 1e-4, $"max |diff| {diff:E2}");
            Assert.Equal(expected[-1].argmax().item<long>(), logits[-1].argmax().item<long>());
        }
    }

    private static string AudioFile(string id) => id switch
    {
        "speech_22050_s16" => "audio/speech_22050_s16.wav",
        "tone_48000_f32" => "audio/tone_48000_f32.wav",
        _ => throw new ArgumentOutOfRangeException(nameof(id)),
    };
}

using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Audio.Tests;

/// <summary>
/// The Qwen2.5-Omni audio tower against tools/audio/make_audio_encoder_fixtures.py (a plain-PyTorch port of
/// transformers' Qwen2_5OmniAudioEncoder, eager attention) on a tiny random-weight checkpoint in the released layout,
/// fed with the reference features of committed real recordings.
/// </summary>
public sealed class AudioEncoderParityTests(ITestOutputHelper output)
{
    private static string Dir => Fixtures.PathOf(Path.Combine("encoder", "qwen25omni-tiny"));

    private static readonly Lazy<IReadOnlyList<EncoderCase>> AllCases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "reference.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(e => new EncoderCase(
            e.GetProperty("id").GetString()!, e.GetProperty("file").GetString()!, e.GetProperty("valid_frames").GetInt32(),
            e.GetProperty("tokens").GetInt32(), e.GetProperty("features_stored").GetBoolean())).ToList();
    });

    public static TheoryData<string> WithFeatures => Ids(c => c.FeaturesStored);

    public static TheoryData<string> AllIds => Ids(_ => true);

    private static TheoryData<string> Ids(Func<EncoderCase, bool> filter)
    {
        var data = new TheoryData<string>();
        foreach (var c in AllCases.Value.Where(filter))
        {
            data.Add(c.Id);
        }

        return data;
    }

    private static EncoderCase Case(string id) => AllCases.Value.Single(c => c.Id == id);

    private static Qwen25OmniAudioTower LoadTower()
    {
        var config = Qwen25OmniAudioConfig.From(ModelConfigFile.Read(Dir));
        using var files = CheckpointFiles.Open(Dir);
        var tower = new Qwen25OmniAudioTower(config);
        tower.Load(files.WithPrefix("thinker.audio_tower."));
        return tower;
    }

    private static EncoderContext Context(IWeightSource weights, int hidden = 64) => new()
    {
        Family = "qwen2_5_omni",
        Config = ModelConfigFile.Read(Dir),
        HiddenSize = hidden,
        Device = CPU,
        DType = ScalarType.Float32,
        Weights = weights,
        ModelDirectory = Dir,
        Logger = NullLogger.Instance,
    };

    [Theory]
    [MemberData(nameof(WithFeatures))]
    public void Tower_ReferenceFeatures_MatchesReferenceWithin1e4(string id)
    {
        var c = Case(id);
        using var tower = LoadTower();
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        using var features = reference.Load(id + ".input_features");
        using var expected = reference.Load(id + ".output");

        using var actual = tower.forward(features);

        Assert.Equal(new long[] { c.Tokens, 64 }, actual.shape);
        double diff = (actual - expected).abs().max().item<float>();
        output.WriteLine($"{id}: L {c.ValidFrames} -> {c.Tokens} tokens, max |diff| {diff:E2}");
        Assert.True(diff <= 1e-4, $"{id}: max |diff| {diff:E2}");
    }

    [Theory]
    [MemberData(nameof(AllIds))]
    public void Encode_Recording_GivesReferenceTokenCountAndEmbeddings(string id)
    {
        var c = Case(id);
        using var files = CheckpointFiles.Open(Dir);
        using var encoder = new Qwen25OmniAudioEncoderFactory(AudioPluginSettings.Default).Create(Context(files.WithPrefix("thinker.audio_tower.")));
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        using var expected = reference.Load(id + ".output");

        using var encoded = encoder.Encode(MediaItem.FromFile("audio", Fixtures.PathOf(c.File)));

        Assert.Equal(new PositionLayout.Sequence(c.Tokens), encoded.Layout);
        Assert.Equal(new long[] { c.Tokens, 64 }, encoded.Embeddings.shape);
        Assert.Equal(ScalarType.Float32, encoded.Embeddings.dtype);
        // The plugin's own features differ from the reference's by ≤ 2.5e-5 (torch's Hann window, see AudioParityTests).
        double diff = (encoded.Embeddings - expected).abs().max().item<float>();
        output.WriteLine($"{id}: {c.Tokens} tokens, end-to-end max |diff| {diff:E2}");
        Assert.True(diff <= 1e-4, $"{id}: max |diff| {diff:E2}");
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(2, 1, 0)]
    [InlineData(3, 2, 1)]
    [InlineData(15, 8, 4)]
    [InlineData(937, 469, 234)]
    [InlineData(1000, 500, 250)]
    [InlineData(3000, 1500, 750)]
    public void OutputLengths_FollowTheReferenceFormula(int frames, int afterCnn, int tokens) =>
        Assert.Equal((afterCnn, tokens), Qwen25OmniAudioConfig.OutputLengths(frames));

    [Fact]
    public void Tower_ChangingOneChunk_LeavesTheOtherChunksTokensUnchanged()
    {
        // 937 frames: chunks [0,200) [200,400) [400,600) [600,800) [800,937) -> tokens [0,50) [50,100) [100,150) ...
        using var tower = LoadTower();
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        using var features = reference.Load("long_1000_u8_9s.input_features");
        using var changed = features.clone();
        changed.narrow(1, 400, 200).add_(0.5);

        using var a = tower.forward(features);
        using var b = tower.forward(changed);

        using var before = (a.narrow(0, 0, 100) - b.narrow(0, 0, 100)).abs().max();
        using var inside = (a.narrow(0, 100, 50) - b.narrow(0, 100, 50)).abs().min();
        using var after = (a.narrow(0, 150, 84) - b.narrow(0, 150, 84)).abs().max();
        Assert.Equal(0f, before.item<float>());
        Assert.Equal(0f, after.item<float>());
        Assert.True(inside.item<float>() > 0, "every token of the changed chunk must change");
    }

    [Fact]
    public void Load_MissingLayer_IsTypedErrorNamingTheTensor()
    {
        var config = Qwen25OmniAudioConfig.From(ModelConfigFile.Read(Dir)) with { Layers = 3 };
        using var files = CheckpointFiles.Open(Dir);
        using var tower = new Qwen25OmniAudioTower(config);

        var e = Assert.Throws<MissingWeightsException>(() => tower.Load(files.WithPrefix("thinker.audio_tower.")));
        Assert.Contains("missing thinker.audio_tower.layers.2.self_attn.q_proj.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_OutputDimNotTheHiddenSize_IsCorruptCheckpoint()
    {
        using var files = CheckpointFiles.Open(Dir);
        var factory = new Qwen25OmniAudioEncoderFactory(AudioPluginSettings.Default);

        var e = Assert.Throws<CorruptCheckpointException>(() => factory.Create(Context(files.WithPrefix("thinker.audio_tower."), hidden: 96)));
        Assert.Contains("output_dim is 64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_WithoutTowerWeights_IsMissingWeightsButPreprocessingWorks()
    {
        using var encoder = new Qwen25OmniAudioEncoderFactory(AudioPluginSettings.Default).Create(Context(new EmptyWeightSource("no --model was given")));
        var item = MediaItem.FromFile("audio", Fixtures.PathOf("audio/tone_48000_f32.wav"));

        var e = Assert.Throws<MissingWeightsException>(() => encoder.Encode(item));
        Assert.Contains("thinker.audio_tower", e.Message, StringComparison.Ordinal);
        var tensors = ((IMediaPreprocessor)encoder).Preprocess(item);
        Assert.Equal(15, tensors["feature_attention_mask"].sum().item<long>());
    }

    [Fact]
    public void Encode_TooShortForOneToken_IsInvalidMedia()
    {
        string path = Path.Combine(Path.GetTempPath(), $"short-{Guid.NewGuid():N}.wav");
        try
        {
            WritePcm16Wav(path, 16000, Enumerable.Range(0, 200).Select(i => (short)(1000 * Math.Sin(i * 0.3))).ToArray());   // 2 mel frames
            using var files = CheckpointFiles.Open(Dir);
            using var encoder = new Qwen25OmniAudioEncoderFactory(AudioPluginSettings.Default).Create(Context(files.WithPrefix("thinker.audio_tower.")));

            var e = Assert.Throws<InvalidMediaException>(() => encoder.Encode(MediaItem.FromFile("audio", path)));
            Assert.Contains("too short", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Sinusoids_MatchTheFormula()
    {
        using var table = Qwen25OmniAudioTower.Sinusoids(1500, 48);
        var v = table.data<float>().ToArray();
        double inc = Math.Log(10000) / 23;
        double worst = 0;
        foreach (int t in new[] { 0, 1, 99, 1499 })
        {
            for (int j = 0; j < 24; j++)
            {
                worst = Math.Max(worst, Math.Abs(v[(t * 48) + j] - Math.Sin(t * Math.Exp(-inc * j))));
                worst = Math.Max(worst, Math.Abs(v[(t * 48) + 24 + j] - Math.Cos(t * Math.Exp(-inc * j))));
            }
        }

        Assert.True(worst < 2e-4, $"max |diff| {worst:E2}");   // float32 arguments up to t·inv = 1499
    }

    private static void WritePcm16Wav(string path, int rate, short[] samples)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write("RIFF"u8);
        w.Write(36 + (samples.Length * 2));
        w.Write("WAVEfmt "u8);
        w.Write(16);
        w.Write((short)1);
        w.Write((short)1);
        w.Write(rate);
        w.Write(rate * 2);
        w.Write((short)2);
        w.Write((short)16);
        w.Write("data"u8);
        w.Write(samples.Length * 2);
        foreach (short s in samples)
        {
            w.Write(s);
        }
    }

    private sealed record EncoderCase(string Id, string File, int ValidFrames, int Tokens, bool FeaturesStored);
}

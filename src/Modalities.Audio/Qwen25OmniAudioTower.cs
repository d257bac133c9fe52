using System.Text.Json;
using JudgeHost.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Modalities.Audio;

// Mirrors transformers Qwen2_5OmniAudioEncoder (MODEL_SPEC §4.3): 2-s chunks, two Conv1d + GELU, sinusoidal positions
// restarting per chunk, pre-LN Whisper-style layers attending only inside their chunk, AvgPool1d(2, 2), ln_post, proj.
// Module and parameter fields are the checkpoint keys below "thinker.audio_tower.".

/// <summary>The <c>thinker_config.audio_config</c> keys the tower consumes.</summary>
public sealed record Qwen25OmniAudioConfig(
    int NumMelBins, int DModel, int Layers, int Heads, int FfnDim, int MaxSourcePositions, int NWindow, int OutputDim)
{
    public int HeadDim => DModel / Heads;

    /// <summary>Mel frames per attention window (2 s): <c>2 * n_window</c>.</summary>
    public int ChunkFrames => 2 * NWindow;

    /// <summary>
    /// The audio config of a Qwen2.5-Omni <c>config.json</c> root (<c>thinker_config.audio_config</c>) or of a
    /// thinker-only one (<c>audio_config</c>).
    /// </summary>
    public static Qwen25OmniAudioConfig From(JsonElement root)
    {
        var thinker = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("thinker_config", out var t) && t.ValueKind == JsonValueKind.Object ? t : root;
        if (thinker.ValueKind != JsonValueKind.Object || !thinker.TryGetProperty("audio_config", out var a) || a.ValueKind != JsonValueKind.Object)
        {
            throw new CorruptCheckpointException("config.json has no thinker_config.audio_config object; a Qwen2.5-Omni checkpoint needs one for audio.");
        }

        int Int(string key, int? fallback = null) => a.TryGetProperty(key, out var e) && e.TryGetInt32(out int x)
            ? x
            : fallback ?? throw new CorruptCheckpointException($"config.json thinker_config.audio_config lacks '{key}'.");
        string activation = a.TryGetProperty("activation_function", out var act) && act.ValueKind == JsonValueKind.String ? act.GetString()! : "gelu";
        if (activation != "gelu")
        {
            throw new CorruptCheckpointException($"thinker_config.audio_config.activation_function is '{activation}'; the audio tower implements 'gelu' (exact erf) only.");
        }

        var config = new Qwen25OmniAudioConfig(Int("num_mel_bins", 128), Int("d_model"), Int("encoder_layers"), Int("encoder_attention_heads"),
            Int("encoder_ffn_dim"), Int("max_source_positions", 1500), Int("n_window", 100), Int("output_dim"));
        if (config.DModel % config.Heads != 0 || config.DModel % 2 != 0 || config.DModel < 4)
        {
            throw new CorruptCheckpointException($"thinker_config.audio_config: d_model {config.DModel} must be even, at least 4 and divisible by encoder_attention_heads {config.Heads}.");
        }

        if (config.NWindow < 1 || config.NWindow > config.MaxSourcePositions)
        {
            throw new CorruptCheckpointException($"thinker_config.audio_config: n_window {config.NWindow} must be 1..max_source_positions ({config.MaxSourcePositions}).");
        }

        return config;
    }

    /// <summary>
    /// Frames left after the stride-2 convolution and after pooling for <paramref name="validFrames"/> mel frames:
    /// transformers' <c>_get_feat_extract_output_lengths</c> (<c>(L-1)//2+1</c>, then <c>(that-2)//2+1</c>, floor division).
    /// </summary>
    public static (int AfterCnn, int Tokens) OutputLengths(int validFrames)
    {
        int afterCnn = ((validFrames - 1) / 2) + 1;
        return (afterCnn, (int)Math.Floor((afterCnn - 2) / 2.0) + 1);
    }
}

/// <summary>A linear layer filled from the checkpoint; Whisper's k_proj has no bias.</summary>
public sealed class AudioLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public AudioLinear(long inFeatures, long outFeatures, bool hasBias = true) : base(nameof(AudioLinear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures), requires_grad: false);
        bias = hasBias ? new Parameter(empty(outFeatures), requires_grad: false) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => F.linear(x, weight, bias);
}

/// <summary>nn.LayerNorm (eps 1e-5, affine) filled from the checkpoint.</summary>
public sealed class AudioLayerNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long _size;

    public AudioLayerNorm(long size) : base(nameof(AudioLayerNorm))
    {
        _size = size;
        weight = new Parameter(empty(size), requires_grad: false);
        bias = new Parameter(empty(size), requires_grad: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => F.layer_norm(x, [_size], weight, bias, 1e-5);
}

/// <summary>nn.Conv1d(kernel 3, padding 1) with bias, filled from the checkpoint.</summary>
public sealed class AudioConv1d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long _stride;

    public AudioConv1d(long inChannels, long outChannels, long stride) : base(nameof(AudioConv1d))
    {
        _stride = stride;
        weight = new Parameter(empty(outChannels, inChannels, 3), requires_grad: false);
        bias = new Parameter(empty(outChannels), requires_grad: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => F.conv1d(x, weight, bias, stride: _stride, padding: 1);
}

/// <summary>Mirrors Qwen2_5OmniAudioAttention: bidirectional multi-head attention over one chunk per batch row.</summary>
public sealed class AudioAttention : nn.Module<Tensor, Tensor>
{
    private readonly AudioLinear q_proj;
    private readonly AudioLinear k_proj;
    private readonly AudioLinear v_proj;
    private readonly AudioLinear out_proj;
    private readonly int _heads;

    public AudioAttention(Qwen25OmniAudioConfig c) : base(nameof(AudioAttention))
    {
        q_proj = new AudioLinear(c.DModel, c.DModel);
        k_proj = new AudioLinear(c.DModel, c.DModel, hasBias: false);
        v_proj = new AudioLinear(c.DModel, c.DModel);
        out_proj = new AudioLinear(c.DModel, c.DModel);
        _heads = c.Heads;
        RegisterComponents();
    }

    /// <param name="x">[chunks, T, D]: every row one chunk; rows never see each other (the reference's cu_seqlens blocks).</param>
    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1];
        Tensor Heads(Tensor h) => h.view(b, t, _heads, -1).transpose(1, 2);                      // [B, H, T, hd]
        var attn = F.scaled_dot_product_attention(Heads(q_proj.forward(x)), Heads(k_proj.forward(x)), Heads(v_proj.forward(x)));
        return out_proj.forward(attn.transpose(1, 2).reshape(b, t, -1));
    }
}

/// <summary>Mirrors Qwen2_5OmniAudioEncoderLayer (pre-LN; fp16 clamping does not apply to the fp32 tower).</summary>
public sealed class AudioEncoderLayer : nn.Module<Tensor, Tensor>
{
    private readonly AudioAttention self_attn;
    private readonly AudioLayerNorm self_attn_layer_norm;
    private readonly AudioLinear fc1;
    private readonly AudioLinear fc2;
    private readonly AudioLayerNorm final_layer_norm;

    public AudioEncoderLayer(Qwen25OmniAudioConfig c) : base(nameof(AudioEncoderLayer))
    {
        self_attn = new AudioAttention(c);
        self_attn_layer_norm = new AudioLayerNorm(c.DModel);
        fc1 = new AudioLinear(c.DModel, c.FfnDim);
        fc2 = new AudioLinear(c.FfnDim, c.DModel);
        final_layer_norm = new AudioLayerNorm(c.DModel);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.forward(self_attn_layer_norm.forward(x));
        h = h + fc2.forward(F.gelu(fc1.forward(final_layer_norm.forward(h))));
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The Qwen2.5-Omni audio tower: the valid mel frames of one recording <c>[num_mel_bins, L]</c> →
/// <c>[((L-1)//2+1)//2, output_dim]</c> embeddings, one per 40 ms. Runs in float32 on the device it is moved to.
/// </summary>
public sealed class Qwen25OmniAudioTower : nn.Module
{
    private readonly AudioConv1d conv1;
    private readonly AudioConv1d conv2;
    private readonly ModuleList<AudioEncoderLayer> layers;
    private readonly AudioLayerNorm ln_post;
    private readonly AudioLinear proj;
    private readonly Qwen25OmniAudioConfig _config;
    private Tensor _positions;   // [max_source_positions, d_model] fp32, the non-persistent SinusoidsPositionEmbedding buffer

    public Qwen25OmniAudioTower(Qwen25OmniAudioConfig config) : base(nameof(Qwen25OmniAudioTower))
    {
        _config = config;
        conv1 = new AudioConv1d(config.NumMelBins, config.DModel, stride: 1);
        conv2 = new AudioConv1d(config.DModel, config.DModel, stride: 2);
        layers = new ModuleList<AudioEncoderLayer>(Enumerable.Range(0, config.Layers).Select(_ => new AudioEncoderLayer(config)).ToArray());
        ln_post = new AudioLayerNorm(config.DModel);
        proj = new AudioLinear(config.DModel, config.OutputDim);
        RegisterComponents();
        _positions = Sinusoids(config.MaxSourcePositions, config.DModel).DetachFromDisposeScope();
    }

    public Qwen25OmniAudioConfig Config => _config;

    /// <summary>
    /// SinusoidsPositionEmbedding: <c>inv = exp(-ln(10000)/(C/2-1) · arange(C/2))</c> in float32,
    /// <c>t = arange(length)[:, None] · inv</c>, <c>cat(sin t, cos t)</c>.
    /// </summary>
    public static Tensor Sinusoids(int length, int channels)
    {
        using var scope = NewDisposeScope();
        int half = channels / 2;
        float increment = (float)(Math.Log(10000) / (half - 1));
        var inv = (arange(half, dtype: ScalarType.Float32) * -increment).exp();
        var scaled = arange(length, dtype: ScalarType.Int64).unsqueeze(1) * inv.unsqueeze(0);
        return cat([scaled.sin(), scaled.cos()], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Moves the weights and the position table to <paramref name="device"/>.</summary>
    public Qwen25OmniAudioTower MoveTo(Device device)
    {
        this.to(device);
        var moved = _positions.to(device).DetachFromDisposeScope();
        if (!ReferenceEquals(moved, _positions))
        {
            _positions.Dispose();
            _positions = moved;
        }

        return this;
    }

    /// <summary>Fills every parameter from a weight source scoped to <c>thinker.audio_tower.</c>; reports missing or misshapen tensors together.</summary>
    public void Load(IWeightSource weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var parameters = named_parameters().ToList();
        var problems = parameters.Where(p => !weights.Contains(p.name)).Select(p => $"missing thinker.audio_tower.{p.name}")
            .Concat(parameters.Where(p => weights.Contains(p.name) && !weights.GetShape(p.name).SequenceEqual(p.parameter.shape))
                .Select(p => $"thinker.audio_tower.{p.name} is [{string.Join(", ", weights.GetShape(p.name))}], expected [{string.Join(", ", p.parameter.shape)}]"))
            .ToList();
        if (problems.Count > 0)
        {
            throw new MissingWeightsException($"The audio tower cannot load: {string.Join("; ", problems.Take(8))}{(problems.Count > 8 ? $" and {problems.Count - 8} more" : "")}. Use a Qwen2.5-Omni checkpoint whose thinker_config.audio_config matches its weights.");
        }

        using var noGrad = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            using var value = weights.Load(name, ScalarType.Float32, parameter.device);
            parameter.copy_(value);
        }
    }

    /// <summary>Embeddings of one recording from its valid mel frames <c>[num_mel_bins, L]</c> (any float type, any device).</summary>
    public Tensor forward(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2 || features.shape[0] != _config.NumMelBins)
        {
            throw new ArgumentException($"Audio features must be [{_config.NumMelBins}, frames]; got [{string.Join(", ", features.shape)}].", nameof(features));
        }

        int frames = (int)features.shape[1];
        var (afterCnn, tokens) = Qwen25OmniAudioConfig.OutputLengths(frames);
        if (tokens < 1)
        {
            throw new ArgumentException($"{frames} mel frames give no audio token (at least 3 are needed).", nameof(features));
        }

        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float32, _positions.device);
        int chunk = _config.ChunkFrames;
        int full = frames / chunk, tail = frames % chunk;
        // Full chunks go through as one batch, the shorter tail chunk as another: each chunk is processed exactly at
        // its own length, which equals the reference's zero padding + masks (conv padding is zeros too).
        var groups = new List<Tensor>();
        if (full > 0)
        {
            groups.Add(x.narrow(1, 0, (long)full * chunk).view(_config.NumMelBins, full, chunk).permute(1, 0, 2));   // [full, mel, 200]
        }

        if (tail > 0)
        {
            groups.Add(x.narrow(1, (long)full * chunk, tail).unsqueeze(0));                                      // [1, mel, tail]
        }

        for (int g = 0; g < groups.Count; g++)
        {
            var h = F.gelu(conv2.forward(F.gelu(conv1.forward(groups[g])))).transpose(1, 2);                      // [B, T', D]
            groups[g] = h + _positions.narrow(0, 0, h.shape[1]).unsqueeze(0);
        }

        for (int i = 0; i < _config.Layers; i++)
        {
            for (int g = 0; g < groups.Count; g++)
            {
                groups[g] = layers[i].forward(groups[g]);
            }
        }

        var hidden = cat(groups.Select(h => h.reshape(-1, _config.DModel)).ToList(), 0);                          // [afterCnn, D]
        if (hidden.shape[0] != afterCnn)
        {
            throw new InvalidOperationException($"Audio tower bookkeeping: {hidden.shape[0]} rows after the convolutions, expected {afterCnn}.");
        }

        var pooled = hidden.narrow(0, 0, 2L * tokens).view(tokens, 2, _config.DModel).mean([1]);                   // AvgPool1d(2, 2)
        return proj.forward(ln_post.forward(pooled)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _positions.Dispose();
        }

        base.Dispose(disposing);
    }
}

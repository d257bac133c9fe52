using JudgeHost.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace JudgeHost.Backbone;

// Mirrors transformers Qwen2ForCausalLM and LlamaForCausalLM. The two share one graph (pre-norm RMSNorm, GQA,
// rotate-half RoPE, SwiGLU); config.json decides the differences that are data, not code: q/k/v (and o) biases,
// RoPE scaling (llama3 / linear), tied head. Module and parameter fields are the safetensors keys.
// Read top to bottom: norm, projection, rotary, attention, MLP, layer, model, LM head, loading.

/// <summary>Mirrors transformers Qwen2RMSNorm / LlamaRMSNorm: fp32 statistics, cast back, then weight.</summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RMSNorm(long size, double eps, ScalarType dtype) : base(nameof(RMSNorm))
    {
        weight = new Parameter(empty(size, dtype), requires_grad: false);
        _eps = eps;
        RegisterComponents();
    }

    internal Tensor Weight => weight;

    internal double Eps => _eps;

    public override Tensor forward(Tensor hiddenStates)
    {
        if (DecodeOps.Applies(hiddenStates.NumberOfElements / weight.shape[0], hiddenStates, weight))
        {
            return DecodeOps.RmsNorm(hiddenStates, weight, _eps);
        }

        var inputDtype = hiddenStates.dtype;
        var x = hiddenStates.to(ScalarType.Float32);
        var variance = x.pow(2).mean([-1], keepdim: true);
        x = x * rsqrt(variance + _eps);
        return weight * x.to(inputDtype);
    }

    /// <summary>The residual sum <c>x + a</c> and its norm (one fused pass for a few bf16 rows).</summary>
    public (Tensor Sum, Tensor Normed) AddForward(Tensor x, Tensor a)
    {
        if (DecodeOps.AppliesElementwise(x, a) && DecodeOps.Applies(1, weight))
        {
            return DecodeOps.AddRmsNorm(x, a, weight, _eps);
        }

        var sum = x + a;
        return (sum, forward(sum));
    }
}

/// <summary>A linear layer whose weights come from the checkpoint (no random init): y = x Wᵀ + b.</summary>
public sealed class Proj : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public Proj(long inFeatures, long outFeatures, bool hasBias, ScalarType dtype) : base(nameof(Proj))
    {
        weight = new Parameter(empty(outFeatures, inFeatures, dtype), requires_grad: false);
        bias = hasBias ? new Parameter(empty(outFeatures, dtype), requires_grad: false) : null;
        RegisterComponents();
    }

    public Tensor Weight => weight;

    internal Tensor? Bias => bias;

    /// <summary>A LoRA update added to this projection's output (training, or an adapter applied without merging).</summary>
    public LoraLayer? Lora { get; set; }

    public override Tensor forward(Tensor x)
    {
        var y = ManagedLinear.Linear(x, weight, bias);
        return Lora is null ? y : y + Lora.Delta(x).to(y.dtype);
    }

    /// <summary>Several projections of one input (q/k/v; gate/up) as one product where none carries a LoRA update.</summary>
    public static Tensor[] ForwardMany(Tensor x, params Proj[] projections)
    {
        if (projections.Any(p => p.Lora is not null))
        {
            return [.. projections.Select(p => p.forward(x))];
        }

        return ManagedLinear.LinearMany(x, [.. projections.Select(p => ((Tensor)p.weight, (Tensor?)p.bias))]);
    }
}

/// <summary>Mirrors transformers Qwen2RotaryEmbedding / LlamaRotaryEmbedding (default, linear and llama3 inv_freq).</summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly Tensor _invFreq;   // [d/2] float32
    private readonly long[]? _mropeSection;

    public RotaryEmbedding(DecoderConfig config, Device device)
    {
        _mropeSection = config.RopeScaling?.MropeSection is { Length: 3 } section
            ? [.. section.Select(x => (long)x), .. section.Select(x => (long)x)]
            : null;
        using var scope = NewDisposeScope();
        int dim = config.HeadDim;
        var exponent = arange(0, dim, 2, ScalarType.Int64).to(ScalarType.Float32) / dim;      // [d/2]
        var invFreq = full_like(exponent, config.RopeTheta).pow(exponent).reciprocal();        // 1 / theta^(2j/d), fp32
        if (config.RopeScaling is { } rs)
        {
            invFreq = rs.Kind switch
            {
                "llama3" => Llama3InvFreq(invFreq, rs),
                "linear" => invFreq / rs.Factor,
                _ => invFreq,
            };
        }

        _invFreq = invFreq.to(device).DetachFromDisposeScope();
    }

    /// <summary>
    /// cos and sin <c>[B, S, d]</c>, computed in fp32 then cast to <paramref name="dtype"/>. Positions are 1-D
    /// <c>[B, S]</c>, or M-RoPE <c>[3, B, S]</c> (temporal, height, width streams) for a config with
    /// <c>mrope_section</c>: frequency band i of the rotary dimension takes stream i mod 3, as transformers
    /// apply_multimodal_rotary_pos_emb does. Three equal rows reduce exactly to 1-D RoPE.
    /// </summary>
    public (Tensor Cos, Tensor Sin) Compute(Tensor positionIds, ScalarType dtype)
    {
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * _invFreq;             // [B, S, d/2] or [3, B, S, d/2]
        var emb = cat([freqs, freqs], -1);                                                     // [..., d]
        Tensor cos = emb.cos(), sin = emb.sin();
        if (positionIds.dim() == 3)
        {
            if (_mropeSection is null)
            {
                throw new InvalidOperationException($"3-row (M-RoPE) position ids [{string.Join(", ", positionIds.shape)}] given to a model without rope_scaling.mrope_section.");
            }

            cos = cat(cos.split(_mropeSection, -1).Select((m, i) => m[i % 3]).ToArray(), -1);      // [B, S, d]
            sin = cat(sin.split(_mropeSection, -1).Select((m, i) => m[i % 3]).ToArray(), -1);
        }

        return (cos.to(dtype), sin.to(dtype));
    }

    public void Dispose() => _invFreq.Dispose();

    // transformers modeling_rope_utils._compute_llama3_parameters, same evaluation order.
    private static Tensor Llama3InvFreq(Tensor invFreq, RopeScaling rs)
    {
        double lowFreqWavelen = rs.OriginalMaxPositionEmbeddings / rs.LowFreqFactor;
        double highFreqWavelen = rs.OriginalMaxPositionEmbeddings / rs.HighFreqFactor;
        var wavelen = invFreq.reciprocal() * (2 * Math.PI);                                   // python: 2*pi / inv_freq
        var invFreqLlama = where(wavelen > lowFreqWavelen, invFreq / rs.Factor, invFreq);
        var smoothFactor = ((wavelen.reciprocal() * rs.OriginalMaxPositionEmbeddings) - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor);
        var smoothed = ((1 - smoothFactor) * invFreqLlama / rs.Factor) + (smoothFactor * invFreqLlama);
        var isMedium = (wavelen < highFreqWavelen).logical_not().logical_and((wavelen > lowFreqWavelen).logical_not());
        return where(isMedium, smoothed, invFreqLlama);
    }
}

/// <summary>Mirrors transformers Qwen2Attention / LlamaAttention (SDPA, GQA by repeat_interleave, cached post-RoPE keys).</summary>
public sealed class Attention : nn.Module
{
    private readonly Proj q_proj;
    private readonly Proj k_proj;
    private readonly Proj v_proj;
    private readonly Proj o_proj;
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _layer;

    public Attention(DecoderConfig c, int layer, ScalarType dtype) : base(nameof(Attention))
    {
        _heads = c.NumAttentionHeads;
        _kvHeads = c.KeyValueHeads;
        _headDim = c.HeadDim;
        _layer = layer;
        q_proj = new Proj(c.HiddenSize, _heads * _headDim, c.QkvBias, dtype);
        k_proj = new Proj(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, dtype);
        v_proj = new Proj(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, dtype);
        o_proj = new Proj(_heads * _headDim, c.HiddenSize, c.OutputBias, dtype);
        RegisterComponents();
    }

    internal (Proj Q, Proj K, Proj V, Proj O) Projections => (q_proj, k_proj, v_proj, o_proj);

    internal (int Heads, int KvHeads, int HeadDim, int Layer) Shape => (_heads, _kvHeads, _headDim, _layer);

    // cache: the KV cache to append to, or null for a cache-free pass over the whole sequence (training).
    public Tensor forward(Tensor hiddenStates, Tensor cos, Tensor sin, Tensor mask, KvCache? cache)
    {
        long b = hiddenStates.shape[0], s = hiddenStates.shape[1];
        var qkv = Proj.ForwardMany(hiddenStates, q_proj, k_proj, v_proj);
        var qp = qkv[0];                                                                          // [B, S, H*d]
        var kp = qkv[1];                                                                          // [B, S, Hkv*d]
        var v = qkv[2].view(b, s, _kvHeads, _headDim).transpose(1, 2);                          // [B, Hkv, S, d]
        Tensor q, k;
        if (DecodeOps.Applies(b * s, qp, kp, cos, sin) && cos.shape[0] == b && cos.shape[1] == s && sin.shape.SequenceEqual(cos.shape))
        {
            q = DecodeOps.Rope(qp, _heads, cos, sin);                                             // [B, H, S, d]
            k = DecodeOps.Rope(kp, _kvHeads, cos, sin);                                           // [B, Hkv, S, d]
        }
        else
        {
            q = qp.view(b, s, _heads, _headDim).transpose(1, 2);                                   // [B, H, S, d]
            k = kp.view(b, s, _kvHeads, _headDim).transpose(1, 2);                                 // [B, Hkv, S, d]
            var c = cos.unsqueeze(1);                                                             // [B, 1, S, d]
            var sn = sin.unsqueeze(1);
            q = (q * c) + (RotateHalf(q) * sn);
            k = (k * c) + (RotateHalf(k) * sn);
        }

        var (keys, values) = cache is null ? (k, v) : cache.Update(_layer, k, v);                // [B, Hkv, L, d]
        int groups = _heads / _kvHeads;
        // Query heads j*G .. j*G+G-1 share kv head j: folded into the query-length axis of kv head j (a view).
        var qg = q.reshape(b, _kvHeads, groups * s, _headDim);                                    // [B, Hkv, G*S, d]
        Tensor attn;
        if (cache is not null && DecodeAttention.Applies(qg, keys, values))
        {
            // Decode steps (a few new tokens per row): the managed kernel, ~10x libtorch's on these shapes.
            attn = DecodeAttention.Run(qg, keys, values, mask).view(b, _heads, s, _headDim);
        }
        else if (groups == 1)
        {
            attn = F.scaled_dot_product_attention(q, keys, values, mask);                         // [B, H, S, d]
        }
        else
        {
            // Grouped-query attention without copying K/V (repeat_interleave would copy the whole cache every step):
            // the folded queries qg, with the mask repeated for each query head of a group.
            var maskG = mask.unsqueeze(2).expand(b, 1, groups, s, mask.shape[^1]).reshape(b, 1, groups * s, mask.shape[^1]);   // [B, 1, G*S, L]
            attn = F.scaled_dot_product_attention(qg, keys, values, maskG).view(b, _heads, s, _headDim);                       // [B, H, S, d]
        }

        attn = attn.transpose(1, 2).reshape(b, s, _heads * _headDim);                            // [B, S, H*d]
        return o_proj.forward(attn);
    }

    private static Tensor RotateHalf(Tensor x)
    {
        long half = x.shape[^1] / 2;
        return cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
    }
}

/// <summary>Mirrors transformers Qwen2MLP / LlamaMLP: down(silu(gate(x)) * up(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Proj gate_proj;
    private readonly Proj up_proj;
    private readonly Proj down_proj;

    public Mlp(DecoderConfig c, ScalarType dtype) : base(nameof(Mlp))
    {
        gate_proj = new Proj(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype);
        up_proj = new Proj(c.HiddenSize, c.IntermediateSize, c.MlpBias, dtype);
        down_proj = new Proj(c.IntermediateSize, c.HiddenSize, c.MlpBias, dtype);
        RegisterComponents();
    }

    internal (Proj Gate, Proj Up, Proj Down) Projections => (gate_proj, up_proj, down_proj);

    public override Tensor forward(Tensor x)
    {
        var gateUp = Proj.ForwardMany(x, gate_proj, up_proj);
        var (gate, up) = (gateUp[0], gateUp[1]);
        var act = DecodeOps.AppliesElementwise(gate, up)
            ? DecodeOps.SiluMul(gate, up)
            : F.silu(gate) * up;
        return down_proj.forward(act);
    }
}

/// <summary>Mirrors transformers Qwen2DecoderLayer / LlamaDecoderLayer.</summary>
public sealed class DecoderLayer : nn.Module
{
    private readonly Attention self_attn;
    private readonly Mlp mlp;
    private readonly RMSNorm input_layernorm;
    private readonly RMSNorm post_attention_layernorm;

    internal Attention SelfAttention => self_attn;

    internal Mlp Feedforward => mlp;

    internal (RMSNorm Input, RMSNorm PostAttention) Norms => (input_layernorm, post_attention_layernorm);

    public DecoderLayer(DecoderConfig c, int layer, ScalarType dtype) : base(nameof(DecoderLayer))
    {
        self_attn = new Attention(c, layer, dtype);
        mlp = new Mlp(c, dtype);
        input_layernorm = new RMSNorm(c.HiddenSize, c.RmsNormEps, dtype);
        post_attention_layernorm = new RMSNorm(c.HiddenSize, c.RmsNormEps, dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor hiddenStates, Tensor cos, Tensor sin, Tensor mask, KvCache? cache)
    {
        if (cache is not null && DecodeLayer.Applies(this, hiddenStates, cos, sin, mask, cache))
        {
            return DecodeLayer.Forward(this, hiddenStates, cos, sin, mask, cache);
        }

        using var scope = NewDisposeScope();
        var attn = self_attn.forward(input_layernorm.forward(hiddenStates), cos, sin, mask, cache);
        var (h, normed) = post_attention_layernorm.AddForward(hiddenStates, attn);                // [B, S, D]
        var mlpOut = mlp.forward(normed);
        h = DecodeOps.AppliesElementwise(h, mlpOut) ? DecodeOps.Add(h, mlpOut) : h + mlpOut;
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>An embedding matrix filled from the checkpoint (no random init); rows are gathered with index_select.</summary>
public sealed class EmbeddingTable : nn.Module
{
    private readonly Parameter weight;

    public EmbeddingTable(long rows, long size, ScalarType dtype) : base(nameof(EmbeddingTable))
    {
        weight = new Parameter(empty(rows, size, dtype), requires_grad: false);
        RegisterComponents();
    }

    public Tensor Weight => weight;
}

/// <summary>Mirrors transformers Qwen2Model / LlamaModel (the <c>model.</c> prefix).</summary>
public sealed class DecoderModel : nn.Module
{
    private readonly EmbeddingTable embed_tokens;
    private readonly ModuleList<DecoderLayer> layers;
    private readonly RMSNorm norm;

    public DecoderModel(DecoderConfig c, ScalarType dtype) : base(nameof(DecoderModel))
    {
        embed_tokens = new EmbeddingTable(c.VocabSize, c.HiddenSize, dtype);
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(i => new DecoderLayer(c, i, dtype)).ToArray());
        norm = new RMSNorm(c.HiddenSize, c.RmsNormEps, dtype);
        RegisterComponents();
    }

    public Tensor EmbedWeight => embed_tokens.Weight;

    public Tensor forward(Tensor inputsEmbeds, Tensor cos, Tensor sin, Tensor mask, KvCache? cache)
    {
        var h = inputsEmbeds;
        foreach (var layer in layers)
        {
            h = layer.forward(h, cos, sin, mask, cache);
        }

        return norm.forward(h);
    }
}

/// <summary>
/// Mirrors transformers Qwen2ForCausalLM / LlamaForCausalLM: <c>model.*</c> plus <c>lm_head</c> (or the tied
/// embedding). Inference only; every forward runs under <c>inference_mode</c>.
/// </summary>
public sealed class CausalLM : nn.Module
{
    private readonly DecoderModel model;
    private readonly Proj? lm_head;
    private readonly RotaryEmbedding _rotary;

    public CausalLM(DecoderConfig config, ScalarType dtype) : base(nameof(CausalLM))
    {
        Config = config;
        DType = dtype;
        model = new DecoderModel(config, dtype);
        lm_head = config.TieWordEmbeddings ? null : new Proj(config.HiddenSize, config.VocabSize, false, dtype);
        RegisterComponents();
        _rotary = new RotaryEmbedding(config, CPU);
    }

    public DecoderConfig Config { get; }

    public ScalarType DType { get; }

    public Device Device { get; private set; } = CPU;

    /// <summary>Decode steps of <paramref name="rows"/> rows of this model run their products on managed kernels (<see cref="ManagedLinear"/>).</summary>
    public bool UsesManagedLinear(int rows) => DType == ScalarType.BFloat16 && Device.type == DeviceType.CPU && ManagedLinear.Covers(rows);

    public KvCache NewCache(int batch, int capacity) =>
        new(Config.NumHiddenLayers, batch, Config.KeyValueHeads, Config.HeadDim, capacity, DType, Device);

    /// <summary>Token embeddings <c>[B, S, D]</c> for ids <c>[B, S]</c>.</summary>
    public Tensor Embed(Tensor inputIds)
    {
        var flat = model.EmbedWeight.index_select(0, inputIds.reshape(-1).to(Device));        // [B*S, D]
        return flat.view(inputIds.shape[0], inputIds.shape[1], Config.HiddenSize);             // [B, S, D]
    }

    /// <summary>
    /// Runs new positions through the decoder, appending them to <paramref name="cache"/>. <paramref name="valid"/>
    /// marks real tokens (false = padding, never attended to by other tokens). Returns logits <c>[B, S, V]</c>, or
    /// <c>[B, 1, V]</c> for the last position only when <paramref name="lastOnly"/>, in the model dtype.
    /// </summary>
    public Tensor Forward(Tensor inputsEmbeds, Tensor positionIds, Tensor valid, KvCache cache, bool lastOnly = false)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        int steps = (int)inputsEmbeds.shape[1];
        int start = cache.Length;

        // A few rows: the products run on the managed kernels' workers, so libtorch's own threads must not spin against them.
        using var threads = UsesManagedLinear((int)inputsEmbeds.shape[0] * steps) ? TorchThreads.Limit(1) : null;
        cache.Reserve(steps, valid.to(Device));
        var mask = AttentionMask(cache.ValidSlots(start + steps), start, steps);
        var (cos, sin) = _rotary.Compute(positionIds.to(Device), DType);
        var hidden = model.forward(inputsEmbeds.to(DType).to(Device), cos, sin, mask, cache);  // [B, S, D]
        cache.Commit(steps);
        if (lastOnly)
        {
            hidden = hidden.narrow(1, steps - 1, 1);
        }

        var logits = lm_head is not null ? lm_head.forward(hidden)
            : ManagedLinear.Linear(hidden, model.EmbedWeight, null);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The training pass: token ids <c>[B, S]</c> (right-padded; <paramref name="valid"/> marks real tokens) through
    /// the whole decoder without an inference cache and outside inference mode, so autograd records it. Positions are
    /// 0..S-1 (1-D RoPE). Same graph as <see cref="Forward"/>. With <paramref name="sharedPrefix"/> = P &gt; 0 every
    /// row must begin with the same P real tokens: they run once (one row), their keys and values are forked to the B
    /// rows, and only the rest runs per row — the same numbers (and gradients) as the full pass, for a fraction of the
    /// work when samples share a long system prompt. Returns logits <c>[B, S - P, V]</c> for positions P..S-1.
    /// </summary>
    public Tensor TrainingForward(Tensor inputIds, Tensor valid, int sharedPrefix = 0)
    {
        long b = inputIds.shape[0], s = inputIds.shape[1];
        ArgumentOutOfRangeException.ThrowIfNegative(sharedPrefix);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sharedPrefix, (int)s);
        using var scope = NewDisposeScope();
        Tensor hidden;
        if (sharedPrefix == 0)
        {
            var positions = arange(s, dtype: ScalarType.Int64, device: Device).unsqueeze(0).expand(b, s);
            var (cos, sin) = _rotary.Compute(positions, DType);
            var mask = AttentionMask(valid.to(Device), 0, (int)s);
            hidden = model.forward(Embed(inputIds), cos, sin, mask, null);
        }
        else
        {
            int p = sharedPrefix, rest = (int)s - sharedPrefix;
            using var prefix = NewCache(1, p);
            prefix.Reserve(p, ones(1, p, ScalarType.Bool, Device));
            var (pcos, psin) = _rotary.Compute(arange(p, dtype: ScalarType.Int64, device: Device).unsqueeze(0), DType);
            model.forward(Embed(inputIds.narrow(0, 0, 1).narrow(1, 0, p)), pcos, psin, AttentionMask(prefix.ValidSlots(p), 0, p), prefix);
            prefix.Commit(p);
            using var cache = prefix.Select(Enumerable.Repeat(0L, (int)b).ToList(), rest);    // autograd flows through the copies
            cache.Reserve(rest, valid.narrow(1, p, rest).to(Device));
            var positions = arange(p, s, dtype: ScalarType.Int64, device: Device).unsqueeze(0).expand(b, rest);
            var (cos, sin) = _rotary.Compute(positions, DType);
            hidden = model.forward(Embed(inputIds.narrow(1, p, rest)), cos, sin, AttentionMask(cache.ValidSlots((int)s), p, rest), cache);
            cache.Commit(rest);
        }

        var logits = lm_head is not null ? lm_head.forward(hidden) : F.linear(hidden, model.EmbedWeight);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Moves weights and RoPE tables to <paramref name="device"/>.</summary>
    public CausalLM MoveTo(Device device)
    {
        _ = this.to(device);
        Device = device;
        return this;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rotary.Dispose();
        }

        base.Dispose(disposing);
    }

    // [B, 1, S, L] bool: key j visible to query i when j <= i (causal) and j is a real token; a padding query also
    // sees itself so no row is fully masked (SDPA would return NaN that leaks through 0 * NaN in later layers).
    private static Tensor AttentionMask(Tensor validSlots, int start, int steps)
    {
        var device = validSlots.device;
        int total = start + steps;
        var keyIdx = arange(total, device: device).unsqueeze(0);                                 // [1, L]
        var queryIdx = arange(start, total, device: device).unsqueeze(1);                        // [S, 1]
        var causal = keyIdx <= queryIdx;                                                         // [S, L]
        var self = keyIdx == queryIdx;                                                           // [S, L]
        var valid = validSlots.unsqueeze(1);                                                      // [B, 1, L]
        var allowed = causal.unsqueeze(0).logical_and(valid).logical_or(self.unsqueeze(0));      // [B, S, L]
        return allowed.unsqueeze(1);                                                             // [B, 1, S, L]
    }
}

using System.Text.Json;
using JudgeHost.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Modalities.Image;

// Mirrors transformers Qwen2_5_VisionTransformerPretrainedModel (MODEL_SPEC §3.4): patch embedding, 2-D rotary
// positions, window attention with full-attention blocks, RMSNorm, gated MLP, patch merger. Module and parameter
// fields are the checkpoint keys below "visual.". Read top to bottom: config, layers, tower, window index.

/// <summary>The <c>vision_config</c> keys the tower consumes.</summary>
public sealed record Qwen25VisionConfig(
    int Depth, int HiddenSize, int IntermediateSize, int NumHeads, int PatchSize, int TemporalPatchSize,
    int SpatialMergeSize, int WindowSize, IReadOnlyList<int> FullAttentionBlocks, int OutHiddenSize, int InChannels)
{
    public int HeadDim => HiddenSize / NumHeads;

    public int PatchInputs => InChannels * TemporalPatchSize * PatchSize * PatchSize;

    /// <summary>
    /// The <c>vision_config</c> of a Qwen2.5-VL <c>config.json</c> root, or of a Qwen2.5-Omni one
    /// (<c>thinker_config.vision_config</c>, which spells the channel count <c>in_channels</c>).
    /// </summary>
    public static Qwen25VisionConfig From(JsonElement root)
    {
        var owner = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("thinker_config", out var thinker) && thinker.ValueKind == JsonValueKind.Object ? thinker : root;
        if (owner.ValueKind != JsonValueKind.Object || !owner.TryGetProperty("vision_config", out var v) || v.ValueKind != JsonValueKind.Object)
        {
            throw new CorruptCheckpointException("config.json has no vision_config object (Qwen2.5-Omni: thinker_config.vision_config); a vision checkpoint needs one.");
        }

        int Int(string key, int? fallback = null) => v.TryGetProperty(key, out var e) && e.TryGetInt32(out int x)
            ? x
            : fallback ?? throw new CorruptCheckpointException($"config.json vision_config lacks '{key}'.");
        var full = v.TryGetProperty("fullatt_block_indexes", out var f) && f.ValueKind == JsonValueKind.Array
            ? f.EnumerateArray().Select(e => e.GetInt32()).ToArray()
            : [];
        return new Qwen25VisionConfig(Int("depth"), Int("hidden_size"), Int("intermediate_size"), Int("num_heads"), Int("patch_size", 14),
            Int("temporal_patch_size", 2), Int("spatial_merge_size", 2), Int("window_size", 112), full, Int("out_hidden_size"), Int("in_chans", Int("in_channels", 3)));
    }
}

/// <summary>RMSNorm (eps 1e-6), fp32 statistics, weight from the checkpoint.</summary>
public sealed class VisionRMSNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public VisionRMSNorm(long size) : base(nameof(VisionRMSNorm))
    {
        weight = new Parameter(empty(size), requires_grad: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var dtype = x.dtype;
        var h = x.to(ScalarType.Float32);
        h = h * rsqrt(h.pow(2).mean([-1], keepdim: true) + 1e-6);
        return weight * h.to(dtype);
    }
}

/// <summary>A linear layer (with bias) filled from the checkpoint.</summary>
public sealed class VisionLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    public VisionLinear(long inFeatures, long outFeatures) : base(nameof(VisionLinear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures), requires_grad: false);
        bias = new Parameter(empty(outFeatures), requires_grad: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => F.linear(x, weight, bias);
}

/// <summary>Mirrors Qwen2_5_VisionPatchEmbed: a Conv3d with kernel = stride, i.e. one matrix product per patch row.</summary>
public sealed class VisionPatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly Conv3dWeight proj;

    public VisionPatchEmbed(Qwen25VisionConfig c) : base(nameof(VisionPatchEmbed))
    {
        proj = new Conv3dWeight(c);
        RegisterComponents();
    }

    public override Tensor forward(Tensor pixelValues) => F.linear(pixelValues, proj.Flat);   // [N, 1176] -> [N, D]

    /// <summary>Holds <c>patch_embed.proj.weight [D, C, tp, p, p]</c> (no bias).</summary>
    public sealed class Conv3dWeight : nn.Module
    {
        private readonly Parameter weight;

        public Conv3dWeight(Qwen25VisionConfig c) : base(nameof(Conv3dWeight))
        {
            weight = new Parameter(empty([c.HiddenSize, c.InChannels, c.TemporalPatchSize, c.PatchSize, c.PatchSize]), requires_grad: false);
            RegisterComponents();
        }

        public Tensor Flat => weight.view(weight.shape[0], -1);   // [D, C*tp*p*p], column order (C, tp, py, px)
    }
}

/// <summary>Mirrors Qwen2_5_VLVisionAttention: fused qkv, fp32 2-D RoPE, bidirectional attention inside each segment.</summary>
public sealed class VisionAttention : nn.Module
{
    private readonly VisionLinear qkv;
    private readonly VisionLinear proj;
    private readonly int _heads;

    public VisionAttention(Qwen25VisionConfig c) : base(nameof(VisionAttention))
    {
        qkv = new VisionLinear(c.HiddenSize, 3L * c.HiddenSize);
        proj = new VisionLinear(c.HiddenSize, c.HiddenSize);
        _heads = c.NumHeads;
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, long[] cuSeqlens)
    {
        long n = x.shape[0];
        var parts = qkv.forward(x).reshape(n, 3, _heads, -1).permute(1, 0, 2, 3).unbind(0);      // 3 x [N, H, hd]
        var c = cos.unsqueeze(-2);                                                                   // [N, 1, hd] fp32
        var s = sin.unsqueeze(-2);
        var q = ((parts[0].to(ScalarType.Float32) * c) + (RotateHalf(parts[0].to(ScalarType.Float32)) * s)).to(x.dtype);
        var k = ((parts[1].to(ScalarType.Float32) * c) + (RotateHalf(parts[1].to(ScalarType.Float32)) * s)).to(x.dtype);
        var v = parts[2];
        var outputs = new List<Tensor>();
        for (int i = 0; i + 1 < cuSeqlens.Length; i++)
        {
            long start = cuSeqlens[i], length = cuSeqlens[i + 1] - cuSeqlens[i];
            if (length == 0)
            {
                continue;
            }

            var qs = q.narrow(0, start, length).transpose(0, 1).unsqueeze(0);                        // [1, H, L, hd]
            var ks = k.narrow(0, start, length).transpose(0, 1).unsqueeze(0);
            var vs = v.narrow(0, start, length).transpose(0, 1).unsqueeze(0);
            outputs.Add(F.scaled_dot_product_attention(qs, ks, vs).squeeze(0).transpose(0, 1));       // [L, H, hd]
        }

        var attn = cat(outputs, 0).reshape(n, -1);                                                    // [N, D]
        return proj.forward(attn);
    }

    private static Tensor RotateHalf(Tensor x)
    {
        long half = x.shape[^1] / 2;
        return cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
    }
}

/// <summary>Mirrors Qwen2_5_VLMLP (with biases).</summary>
public sealed class VisionMlp : nn.Module<Tensor, Tensor>
{
    private readonly VisionLinear gate_proj;
    private readonly VisionLinear up_proj;
    private readonly VisionLinear down_proj;

    public VisionMlp(Qwen25VisionConfig c) : base(nameof(VisionMlp))
    {
        gate_proj = new VisionLinear(c.HiddenSize, c.IntermediateSize);
        up_proj = new VisionLinear(c.HiddenSize, c.IntermediateSize);
        down_proj = new VisionLinear(c.IntermediateSize, c.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => down_proj.forward(F.silu(gate_proj.forward(x)) * up_proj.forward(x));
}

/// <summary>Mirrors Qwen2_5_VLVisionBlock.</summary>
public sealed class VisionBlock : nn.Module
{
    private readonly VisionRMSNorm norm1;
    private readonly VisionRMSNorm norm2;
    private readonly VisionAttention attn;
    private readonly VisionMlp mlp;

    public VisionBlock(Qwen25VisionConfig c) : base(nameof(VisionBlock))
    {
        norm1 = new VisionRMSNorm(c.HiddenSize);
        norm2 = new VisionRMSNorm(c.HiddenSize);
        attn = new VisionAttention(c);
        mlp = new VisionMlp(c);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, long[] cuSeqlens)
    {
        using var scope = NewDisposeScope();
        var h = x + attn.forward(norm1.forward(x), cos, sin, cuSeqlens);
        h = h + mlp.forward(norm2.forward(h));
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>Mirrors Qwen2_5_VLPatchMerger: RMSNorm per patch, 2x2 patches concatenated, Linear → GELU(erf) → Linear.</summary>
public sealed class VisionMerger : nn.Module<Tensor, Tensor>
{
    private readonly VisionRMSNorm ln_q;
    private readonly Sequential mlp;
    private readonly long _merged;

    public VisionMerger(Qwen25VisionConfig c) : base(nameof(VisionMerger))
    {
        _merged = (long)c.HiddenSize * c.SpatialMergeSize * c.SpatialMergeSize;
        ln_q = new VisionRMSNorm(c.HiddenSize);
        mlp = nn.Sequential(new VisionLinear(_merged, _merged), nn.GELU(), new VisionLinear(_merged, c.OutHiddenSize));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => mlp.forward(ln_q.forward(x).view(-1, _merged));
}

/// <summary>
/// The Qwen2.5-VL vision tower: <c>pixel_values [N, C·tp·p·p]</c> and per-item grids (t, h, w) in patches →
/// embeddings <c>[N/4, out_hidden]</c> in merged raster order (t, h/2, w/2).
/// </summary>
public sealed class Qwen25VisionTower : nn.Module
{
    private readonly VisionPatchEmbed patch_embed;
    private readonly ModuleList<VisionBlock> blocks;
    private readonly VisionMerger merger;
    private readonly Qwen25VisionConfig _config;
    private readonly Tensor _invFreq;   // [head_dim/4] fp32

    public Qwen25VisionTower(Qwen25VisionConfig config) : base(nameof(Qwen25VisionTower))
    {
        _config = config;
        patch_embed = new VisionPatchEmbed(config);
        blocks = new ModuleList<VisionBlock>(Enumerable.Range(0, config.Depth).Select(_ => new VisionBlock(config)).ToArray());
        merger = new VisionMerger(config);
        RegisterComponents();
        int dim = config.HeadDim / 2;
        using var exponent = arange(0, dim, 2, ScalarType.Int64).to(ScalarType.Float32) / dim;
        _invFreq = full_like(exponent, 10000.0).pow(exponent).reciprocal().DetachFromDisposeScope();
    }

    public Qwen25VisionConfig Config => _config;

    /// <summary>Fills every parameter from a weight source scoped to <c>visual.</c>; reports missing or misshapen tensors together.</summary>
    public void Load(IWeightSource weights)
    {
        var parameters = named_parameters().ToList();
        var problems = parameters.Where(p => !weights.Contains(p.name)).Select(p => $"missing visual.{p.name}")
            .Concat(parameters.Where(p => weights.Contains(p.name) && !weights.GetShape(p.name).SequenceEqual(p.parameter.shape))
                .Select(p => $"visual.{p.name} is [{string.Join(", ", weights.GetShape(p.name))}], expected [{string.Join(", ", p.parameter.shape)}]"))
            .ToList();
        if (problems.Count > 0)
        {
            throw new MissingWeightsException($"The vision tower cannot load: {string.Join("; ", problems.Take(8))}{(problems.Count > 8 ? $" and {problems.Count - 8} more" : "")}. Use a Qwen2.5-VL checkpoint whose vision_config matches its weights.");
        }

        using var noGrad = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            using var value = weights.Load(name, ScalarType.Float32);
            parameter.copy_(value);
        }
    }

    /// <summary>Vision embeddings for one or more items; rows follow the items in order.</summary>
    public Tensor forward(Tensor pixelValues, IReadOnlyList<(int T, int H, int W)> grids)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        int unit = _config.SpatialMergeSize * _config.SpatialMergeSize;
        var hidden = patch_embed.forward(pixelValues.to(ScalarType.Float32));                          // [N, D]
        long n = hidden.shape[0];
        var rotary = RotaryPositions(grids);                                                           // [N, hd/2]
        var (windowIndex, cuWindow) = WindowIndex(grids);
        var index = tensor(windowIndex);
        hidden = hidden.reshape(n / unit, unit, -1).index_select(0, index).reshape(n, -1);
        rotary = rotary.reshape(n / unit, unit, -1).index_select(0, index).reshape(n, -1);
        var emb = cat([rotary, rotary], -1);                                                           // [N, hd]
        var cos = emb.cos();
        var sin = emb.sin();
        long[] cuFull = FullSeqlens(grids);
        for (int i = 0; i < _config.Depth; i++)
        {
            hidden = blocks[i].forward(hidden, cos, sin, _config.FullAttentionBlocks.Contains(i) ? cuFull : cuWindow);
        }

        var merged = merger.forward(hidden);                                                           // [N/4, out]
        var reverse = index.argsort();
        return merged.index_select(0, reverse).MoveToOuterDisposeScope();
    }

    // rot_pos_emb: per patch (row order of the processor) the (h, w) patch coordinates, times inv_freq.
    private Tensor RotaryPositions(IReadOnlyList<(int T, int H, int W)> grids)
    {
        int m = _config.SpatialMergeSize;
        var ids = new List<Tensor>();
        foreach (var (t, h, w) in grids)
        {
            var hpos = arange(h).unsqueeze(1).expand(h, w).reshape(h / m, m, w / m, m).permute(0, 2, 1, 3).flatten();
            var wpos = arange(w).unsqueeze(0).expand(h, w).reshape(h / m, m, w / m, m).permute(0, 2, 1, 3).flatten();
            ids.Add(stack([hpos, wpos], -1).repeat(t, 1));                                            // [t*h*w, 2]
        }

        var posIds = cat(ids, 0);                                                                      // [N, 2]
        int maxGrid = grids.Max(g => Math.Max(g.H, g.W));
        var full = outer(arange(maxGrid, dtype: ScalarType.Float32), _invFreq);                       // [maxGrid, hd/4]
        return full.index_select(0, posIds.flatten()).reshape(posIds.shape[0], -1);                   // [N, hd/2]
    }

    private long[] FullSeqlens(IReadOnlyList<(int T, int H, int W)> grids)
    {
        var cu = new List<long> { 0 };
        foreach (var (t, h, w) in grids)
        {
            for (int i = 0; i < t; i++)
            {
                cu.Add(cu[^1] + ((long)h * w));
            }
        }

        return [.. cu];
    }

    // get_window_index: merged tokens grouped into windows of (window / merge / patch)^2, raster inside a window.
    private (long[] WindowIndex, long[] CuWindowSeqlens) WindowIndex(IReadOnlyList<(int T, int H, int W)> grids)
    {
        int m = _config.SpatialMergeSize;
        int ws = _config.WindowSize / m / _config.PatchSize;
        int unit = m * m;
        var index = new List<long>();
        var cu = new List<long> { 0 };
        long offset = 0;
        foreach (var (t, h, w) in grids)
        {
            int lh = h / m, lw = w / m;
            int padH = ws - (lh % ws), padW = ws - (lw % ws);
            int nh = (lh + padH) / ws, nw = (lw + padW) / ws;
            for (int ti = 0; ti < t; ti++)
            {
                for (int wh = 0; wh < nh; wh++)
                {
                    for (int ww = 0; ww < nw; ww++)
                    {
                        int count = 0;
                        for (int r = wh * ws; r < (wh + 1) * ws; r++)
                        {
                            for (int c = ww * ws; c < (ww + 1) * ws; c++)
                            {
                                if (r < lh && c < lw)
                                {
                                    index.Add(offset + ((long)ti * lh * lw) + ((long)r * lw) + c);
                                    count++;
                                }
                            }
                        }

                        long end = cu[^1] + ((long)count * unit);
                        if (end != cu[^1])
                        {
                            cu.Add(end);   // unique_consecutive drops empty windows
                        }
                    }
                }
            }

            offset += (long)t * lh * lw;
        }

        return ([.. index], [.. cu]);
    }
}

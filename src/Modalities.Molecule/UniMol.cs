using JudgeHost.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Modalities.Molecule;

// Mirrors Flex-Judge example/models/unimol/unimol.py (SimpleUniMolModel, GaussianLayer, NonLinearHead) and
// transformer_encoder_with_pair.py (TransformerEncoderWithPair), with Uni-Core's TransformerEncoderLayer and
// SelfMultiheadAttention (return_attn=True), as Mol-LLaMA runs them: frozen, eval mode (dropout off), pre-LN, no
// final_head_layer_norm (delta_pair_repr_norm_loss < 0). Uni-Core's LayerNorm is F.layer_norm with eps 1e-5 on CPU,
// its softmax_dropout is F.softmax, "gelu" is F.gelu (erf).

/// <summary>
/// UniMol, Mol-LLaMA's 3-D molecule encoder. Input: <see cref="UniMolInput"/> (atom tokens with BOS/EOS, pair edge
/// types, distances). Output: <c>encoder_rep [B, L, D]</c> (after the final LayerNorm, before Mol-LLaMA's
/// <c>ln_graph</c>) and the token mask <c>[B, L]</c> (<c>~padding_mask</c>). The pair representation is what the
/// reference computes: Gaussian kernels of the distance (scaled and shifted per edge type) through a 2-layer GELU head
/// give a per-head attention bias; every layer adds it to its scaled dot products and hands the sum (pre-softmax, with
/// −∞ at padded keys) to the next layer as its bias.
/// </summary>
public sealed class UniMol : IDisposable
{
    /// <summary>π as the reference's <c>gaussian</c> spells it.</summary>
    private const double Pi = 3.14159;

    private const double LayerNormEps = 1e-5;

    private readonly CheckpointTensors _tensors;
    private readonly Tensor _embedTokens;
    private readonly Tensor _embLnWeight;
    private readonly Tensor _embLnBias;
    private readonly Tensor _finalLnWeight;
    private readonly Tensor _finalLnBias;
    private readonly Tensor _proj1Weight;
    private readonly Tensor _proj1Bias;
    private readonly Tensor _proj2Weight;
    private readonly Tensor _proj2Bias;
    private readonly Tensor _means;
    private readonly Tensor _stds;
    private readonly Tensor _mul;
    private readonly Tensor _bias;
    private readonly Layer[] _layers;

    private UniMol(IWeightSource weights, string prefix, UniMolConfig config, int dictionarySize, int paddingIdx, Device device)
    {
        Config = config;
        PaddingIdx = paddingIdx;
        _tensors = new CheckpointTensors(weights, device);
        var t = _tensors;
        int d = config.EmbedDim;
        int k = (int)(t.Shape(prefix + "gbf.means.weight")?.LastOrDefault() ?? 0);
        Kernels = k;
        _embedTokens = t.Read(prefix + "embed_tokens.weight", dictionarySize, d);
        _embLnWeight = t.Read(prefix + "encoder.emb_layer_norm.weight", d);
        _embLnBias = t.Read(prefix + "encoder.emb_layer_norm.bias", d);
        _finalLnWeight = t.Read(prefix + "encoder.final_layer_norm.weight", d);
        _finalLnBias = t.Read(prefix + "encoder.final_layer_norm.bias", d);
        _proj1Weight = t.Read(prefix + "gbf_proj.linear1.weight", k, k);
        _proj1Bias = t.Read(prefix + "gbf_proj.linear1.bias", k);
        _proj2Weight = t.Read(prefix + "gbf_proj.linear2.weight", config.AttentionHeads, k);
        _proj2Bias = t.Read(prefix + "gbf_proj.linear2.bias", config.AttentionHeads);
        _means = t.Read(prefix + "gbf.means.weight", 1, k);
        _stds = t.Read(prefix + "gbf.stds.weight", 1, k);
        _mul = t.Read(prefix + "gbf.mul.weight", (long)dictionarySize * dictionarySize, 1);
        _bias = t.Read(prefix + "gbf.bias.weight", (long)dictionarySize * dictionarySize, 1);
        _layers = new Layer[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            string p = $"{prefix}encoder.layers.{l}.";
            _layers[l] = new Layer(
                t.Read(p + "self_attn.in_proj.weight", 3 * d, d), t.Read(p + "self_attn.in_proj.bias", 3 * d),
                t.Read(p + "self_attn.out_proj.weight", d, d), t.Read(p + "self_attn.out_proj.bias", d),
                t.Read(p + "self_attn_layer_norm.weight", d), t.Read(p + "self_attn_layer_norm.bias", d),
                t.Read(p + "fc1.weight", config.FfnEmbedDim, d), t.Read(p + "fc1.bias", config.FfnEmbedDim),
                t.Read(p + "fc2.weight", d, config.FfnEmbedDim), t.Read(p + "fc2.bias", d),
                t.Read(p + "final_layer_norm.weight", d), t.Read(p + "final_layer_norm.bias", d));
        }

        t.ThrowIfProblems(
            $"UniMol ({config.Layers} layers, dim {config.EmbedDim}, {config.AttentionHeads} heads, dictionary of {dictionarySize}) under '{prefix}'",
            "Use Uni-Mol's mol_pre_no_h_220816.pt weights (dptech/Uni-Mol-Models; SimpleUniMolModel's keys) converted to safetensors under this prefix, with a dictionary of the same size (Modalities:Molecule:DictionaryPath).");
    }

    public UniMolConfig Config { get; }

    /// <summary>The dictionary's <c>[PAD]</c> index: padded positions are masked out (<c>src_tokens == pad</c>).</summary>
    public int PaddingIdx { get; }

    /// <summary>Gaussian basis kernels K (128 in the reference), read from <c>gbf.means</c>.</summary>
    public int Kernels { get; }

    /// <summary>Loads UniMol's tensors under <paramref name="prefix"/> (e.g. <c>encoder.graph_encoder.unimol.</c>).</summary>
    public static UniMol Load(IWeightSource weights, string prefix, UniMolConfig config, UniMolDictionary dictionary, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(dictionary);
        return new UniMol(weights, prefix, config, dictionary.Count, dictionary.Pad, device ?? CPU);
    }

    /// <summary>
    /// A batch of inputs, padded at the end as <c>Mol3DCollater</c> does (tokens with the pad index, edge types and
    /// distances with 0) to the longest: <c>encoder_rep [B, Lmax, D]</c> and mask <c>[B, Lmax]</c> (true = token).
    /// </summary>
    public (Tensor Rep, Tensor Mask) Forward(IReadOnlyList<UniMolInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var scope = NewDisposeScope();
        int b = inputs.Count;
        int l = inputs.Max(i => i.Length);
        var tokens = new long[b * l];
        var edges = new long[b * l * l];
        var distances = new float[b * l * l];
        Array.Fill(tokens, PaddingIdx);
        for (int n = 0; n < b; n++)
        {
            var input = inputs[n];
            int len = input.Length;
            input.Tokens.CopyTo(tokens, n * l);
            for (int i = 0; i < len; i++)
            {
                Array.Copy(input.EdgeTypes, i * len, edges, ((long)n * l * l) + (i * l), len);
                Array.Copy(input.Distances, i * len, distances, ((long)n * l * l) + (i * l), len);
            }
        }

        var device = _embedTokens.device;
        var (rep, mask) = Forward(tensor(tokens, [b, l], device: device), tensor(distances, [b, l, l], device: device), tensor(edges, [b, l, l], device: device));
        return (rep.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary><c>SimpleUniMolModel.forward(src_tokens [B, L], src_distance [B, L, L], src_edge_type [B, L, L])</c>.</summary>
    public (Tensor Rep, Tensor Mask) Forward(Tensor srcTokens, Tensor srcDistance, Tensor srcEdgeType)
    {
        ArgumentNullException.ThrowIfNull(srcTokens);
        ArgumentNullException.ThrowIfNull(srcDistance);
        ArgumentNullException.ThrowIfNull(srcEdgeType);
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        long bsz = srcTokens.shape[0];
        long n = srcTokens.shape[1];
        int heads = Config.AttentionHeads;
        int headDim = Config.EmbedDim / heads;
        var paddingMask = srcTokens.eq(PaddingIdx);                                             // [B, L]
        var x = _embedTokens.index_select(0, srcTokens.flatten()).view(bsz, n, -1);             // [B, L, D]

        // GaussianLayer: mul/bias per edge type, K kernels; NonLinearHead K -> K -> heads (GELU).
        var mul = _mul.index_select(0, srcEdgeType.flatten()).view(bsz, n, n, 1);               // [B, L, L, 1]
        var bias = _bias.index_select(0, srcEdgeType.flatten()).view(bsz, n, n, 1);
        var g = (mul * srcDistance.to(ScalarType.Float32).unsqueeze(-1)) + bias;                // [B, L, L, 1]
        g = g.expand(-1, -1, -1, Kernels);                                                       // [B, L, L, K]
        var mean = _means.view(-1);
        var std = _stds.view(-1).abs() + 1e-5;
        g = (-0.5 * ((g - mean) / std).pow(2)).exp() / (Math.Pow(2 * Pi, 0.5) * std);
        var gbf = F.linear(F.gelu(F.linear(g, _proj1Weight, _proj1Bias)), _proj2Weight, _proj2Bias);   // [B, L, L, H]
        var attnBias = gbf.permute(0, 3, 1, 2).contiguous();                                    // [B, H, L, L]

        x = F.layer_norm(x, [Config.EmbedDim], _embLnWeight, _embLnBias, LayerNormEps);
        x = x * (1 - paddingMask.unsqueeze(-1).to(x.dtype));
        // fill_attn_mask: padded keys get -inf in the bias (the key padding mask is merged into it).
        attnBias = attnBias.masked_fill(paddingMask.unsqueeze(1).unsqueeze(2), float.NegativeInfinity);

        double scaling = Math.Pow(headDim, -0.5);
        foreach (var layer in _layers)
        {
            var residual = x;
            var h = F.layer_norm(x, [Config.EmbedDim], layer.AttnLnWeight, layer.AttnLnBias, LayerNormEps);
            var qkv = F.linear(h, layer.InProjWeight, layer.InProjBias).chunk(3, -1);
            var q = qkv[0].view(bsz, n, heads, headDim).transpose(1, 2) * scaling;               // [B, H, L, hd]
            var k = qkv[1].view(bsz, n, heads, headDim).transpose(1, 2);
            var v = qkv[2].view(bsz, n, heads, headDim).transpose(1, 2);
            var weights = q.matmul(k.transpose(-1, -2)) + attnBias;                             // [B, H, L, L]
            attnBias = weights;                                                                  // the next layer's bias
            var o = weights.softmax(-1).matmul(v).transpose(1, 2).reshape(bsz, n, Config.EmbedDim);  // [B, L, D]
            x = residual + F.linear(o, layer.OutWeight, layer.OutBias);

            residual = x;
            h = F.layer_norm(x, [Config.EmbedDim], layer.FinalLnWeight, layer.FinalLnBias, LayerNormEps);
            h = F.linear(F.gelu(F.linear(h, layer.Fc1Weight, layer.Fc1Bias)), layer.Fc2Weight, layer.Fc2Bias);
            x = residual + h;
        }

        x = F.layer_norm(x, [Config.EmbedDim], _finalLnWeight, _finalLnBias, LayerNormEps);
        return (x.MoveToOuterDisposeScope(), paddingMask.logical_not().MoveToOuterDisposeScope());
    }

    public void Dispose() => _tensors.Dispose();

    private sealed record Layer(
        Tensor InProjWeight, Tensor InProjBias, Tensor OutWeight, Tensor OutBias, Tensor AttnLnWeight, Tensor AttnLnBias,
        Tensor Fc1Weight, Tensor Fc1Bias, Tensor Fc2Weight, Tensor Fc2Bias, Tensor FinalLnWeight, Tensor FinalLnBias);
}

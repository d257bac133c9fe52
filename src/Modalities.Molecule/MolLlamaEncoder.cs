using JudgeHost.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Modalities.Molecule;

// Mirrors Flex-Judge example/models/mol_llama_encoder.py (MolLLaMAEncoder.graph_forward after MolLLaMA.postprocess_encoder),
// models/blending_module/blending_module.py (BlendingModule, CrossAttentionBlock, ResidualAttentionBlock with
// torch.nn.MultiheadAttention), models/qformer/modeling_bert.py (LAVIS Q-Former: BertModel.forward with query_embeds
// only) and MolLLaMA.llm_proj, in eval mode. Everything runs in float32; the result is cast to the backbone's dtype.

/// <summary>Every stage of <see cref="MolLlamaEncoder.Forward"/> for a batch (padded at the end, masks true = token).</summary>
/// <param name="UniMol">UniMol's <c>encoder_rep [B, L3, D3]</c> (before <c>ln_graph</c>).</param>
/// <param name="UniMolMask"><c>[B, L3]</c>.</param>
/// <param name="Gin">MoleculeSTM's <c>graph_embed [B, L2, E]</c> (before <c>ln_graph</c>).</param>
/// <param name="GinMask"><c>[B, L2]</c>.</param>
/// <param name="Blended">The blending module's output <c>[B, L2 + L3, d]</c>: 2-D tokens then 3-D tokens.</param>
/// <param name="BlendedMask"><c>[B, L2 + L3]</c>.</param>
/// <param name="Query">The Q-Former's <c>last_hidden_state [B, Q, H]</c>.</param>
/// <param name="Projected"><c>llm_proj</c> of it: <c>[B, Q, hidden]</c>, what replaces the <c>&lt;mol&gt;</c> embeddings.</param>
public sealed record MolLlamaEncoderOutput(
    Tensor UniMol, Tensor UniMolMask, Tensor Gin, Tensor GinMask, Tensor Blended, Tensor BlendedMask, Tensor Query, Tensor Projected) : IDisposable
{
    public void Dispose()
    {
        foreach (var t in new[] { UniMol, UniMolMask, Gin, GinMask, Blended, BlendedMask, Query, Projected })
        {
            t.Dispose();
        }
    }
}

/// <summary>
/// Mol-LLaMA's molecule encoder end to end: MoleculeSTM GIN (2-D) and UniMol (3-D), each followed by its
/// <c>ln_graph</c> LayerNorm, the 2-D/3-D blending module, the Q-Former with learned query tokens, and the projector
/// into the Llama hidden size. Reads <c>encoder.*</c> and <c>llm_proj.*</c> of a Mol-LLaMA checkpoint under the
/// reference's names (<c>MolLLaMA.state_dict()</c>).
/// </summary>
public sealed class MolLlamaEncoder : IDisposable
{
    /// <summary>The Mol-LLaMA module paths this encoder reads.</summary>
    public const string UniMolPrefix = "encoder.graph_encoder.unimol.";

    public const string GinPrefix = "encoder.graph_encoder.moleculestm.";

    private const string Encoder = "encoder.";

    /// <summary>torch.nn.LayerNorm's default epsilon (ln_graph and every blending LayerNorm).</summary>
    private const double LayerNormEps = 1e-5;

    private readonly CheckpointTensors _tensors;
    private readonly Norm _lnGraph2D;
    private readonly Norm _lnGraph3D;
    private readonly Tensor _mlp2DWeight;
    private readonly Tensor _mlp2DBias;
    private readonly Tensor _mlp3DWeight;
    private readonly Tensor _mlp3DBias;
    private readonly CrossAttentionBlock[] _blocks;
    private readonly Tensor _queryTokens;
    private readonly Norm _embeddingsNorm;
    private readonly BertLayer[] _bertLayers;
    private readonly Tensor _projWeight;
    private readonly Tensor _projBias;

    private MolLlamaEncoder(IWeightSource weights, MolLlamaEncoderConfig config, int llmHidden, UniMol uniMol, MoleculeStmGin gin, Device device)
    {
        Config = config;
        UniMol = uniMol;
        Gin = gin;
        LlmHidden = llmHidden;
        _tensors = new CheckpointTensors(weights, device);
        var t = _tensors;
        int d = config.BlendingDim;
        int h = config.Bert.HiddenSize;
        int e2 = config.Gin.EmbDim;
        int e3 = config.UniMol.EmbedDim;
        Norm ReadNorm(string p, int n) => new(t.Read(p + "weight", n), t.Read(p + "bias", n));

        _lnGraph2D = ReadNorm(Encoder + "ln_graph.moleculestm.", e2);
        _lnGraph3D = ReadNorm(Encoder + "ln_graph.unimol.", e3);
        string bm = Encoder + "blending_module.";
        _mlp2DWeight = t.Read(bm + "mlp.moleculestm.0.weight", d, e2);
        _mlp2DBias = t.Read(bm + "mlp.moleculestm.0.bias", d);
        _mlp3DWeight = t.Read(bm + "mlp.unimol.0.weight", d, e3);
        _mlp3DBias = t.Read(bm + "mlp.unimol.0.bias", d);
        ResidualAttentionBlock ReadBlock(string p) => new(
            t.Read(p + "attn.in_proj_weight", 3 * d, d), t.Read(p + "attn.in_proj_bias", 3 * d),
            t.Read(p + "attn.out_proj.weight", d, d), t.Read(p + "attn.out_proj.bias", d),
            t.Read(p + "mlp.0.weight", 4 * d, d), t.Read(p + "mlp.0.bias", 4 * d),
            t.Read(p + "mlp.2.weight", d, 4 * d), t.Read(p + "mlp.2.bias", d),
            ReadNorm(p + "ln_q.", d), ReadNorm(p + "ln_k.", d), ReadNorm(p + "ln_v.", d), ReadNorm(p + "ln.", d));
        _blocks = new CrossAttentionBlock[config.BlendingLayers];
        for (int l = 0; l < config.BlendingLayers; l++)
        {
            string p = $"{bm}cross_attn_blocks.{l}.";
            _blocks[l] = new CrossAttentionBlock(
                ReadBlock(p + "self_attn_block_2D."), ReadBlock(p + "self_attn_block_3D."),
                ReadBlock(p + "cross_attn_block_2Dto3D."), ReadBlock(p + "cross_attn_block_3Dto2D."));
        }

        _queryTokens = t.Read(Encoder + "query_tokens", 1, config.QueryTokens, h);
        string bert = Encoder + "Qformer.bert.";
        _embeddingsNorm = ReadNorm(bert + "embeddings.LayerNorm.", h);
        BertAttention ReadAttention(string p, int keyWidth) => new(
            t.Read(p + "self.query.weight", h, h), t.Read(p + "self.query.bias", h),
            t.Read(p + "self.key.weight", h, keyWidth), t.Read(p + "self.key.bias", h),
            t.Read(p + "self.value.weight", h, keyWidth), t.Read(p + "self.value.bias", h),
            t.Read(p + "output.dense.weight", h, h), t.Read(p + "output.dense.bias", h),
            ReadNorm(p + "output.LayerNorm.", h));
        _bertLayers = new BertLayer[config.Bert.Layers];
        for (int l = 0; l < config.Bert.Layers; l++)
        {
            string p = $"{bert}encoder.layer.{l}.";
            int inter = config.Bert.IntermediateSize;
            _bertLayers[l] = new BertLayer(
                ReadAttention(p + "attention.", h),
                l % config.CrossAttentionFreq == 0 ? ReadAttention(p + "crossattention.", d) : null,
                t.Read(p + "intermediate_query.dense.weight", inter, h), t.Read(p + "intermediate_query.dense.bias", inter),
                t.Read(p + "output_query.dense.weight", h, inter), t.Read(p + "output_query.dense.bias", h),
                ReadNorm(p + "output_query.LayerNorm.", h));
        }

        _projWeight = t.Read("llm_proj.weight", llmHidden, h);
        _projBias = t.Read("llm_proj.bias", llmHidden);
        t.ThrowIfProblems(
            $"Mol-LLaMA's encoder (blending width {d}, {config.BlendingLayers} blending layers, Q-Former {config.Bert.Layers} x {h}, {config.QueryTokens} queries, projector to {llmHidden})",
            "Use a Mol-LLaMA checkpoint (MolLLaMA.state_dict() names: encoder.ln_graph.*, encoder.blending_module.*, encoder.Qformer.bert.*, encoder.query_tokens, llm_proj.*) whose config.json sizes match its tensors.");
    }

    public MolLlamaEncoderConfig Config { get; }

    public UniMol UniMol { get; }

    public MoleculeStmGin Gin { get; }

    /// <summary>The Llama hidden size the projector writes.</summary>
    public int LlmHidden { get; }

    /// <summary>
    /// Loads the whole encoder from a Mol-LLaMA checkpoint's tensors (names with their <c>encoder.</c> / <c>llm_proj.</c>
    /// prefixes). Throws <see cref="MissingWeightsException"/> naming what is missing or misshapen.
    /// </summary>
    public static MolLlamaEncoder Load(IWeightSource weights, MolLlamaEncoderConfig config, UniMolDictionary dictionary, int llmHidden, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(dictionary);
        device ??= CPU;
        var absent = new[] { (UniMolPrefix + "embed_tokens.weight", "UniMol (dptech/Uni-Mol-Models mol_pre_no_h_220816.pt, its 'model' state dict)"), (GinPrefix + "molecule_node_model.atom_encoder.atom_embedding_list.0.weight", "MoleculeSTM (chao1224/MoleculeSTM demo/demo_checkpoints_Graph/molecule_model.pth)") }
            .Where(p => !weights.Contains(p.Item1)).ToArray();
        if (absent.Length > 0)
        {
            throw new MissingWeightsException(
                $"The Mol-LLaMA checkpoint has no {string.Join(" and no ", absent.Select(a => $"'{a.Item1}'"))}. Mol-LLaMA's loader ignores the frozen graph encoders' keys and fetches them from their own repositories; "
                + $"here they must be in the checkpoint: add {string.Join(" and ", absent.Select(a => a.Item2))} converted to safetensors under '{UniMolPrefix}' / '{GinPrefix}' (a shard listed in model.safetensors.index.json).");
        }

        var uniMol = UniMol.Load(weights, UniMolPrefix, config.UniMol, dictionary, device);
        MoleculeStmGin? gin = null;
        try
        {
            gin = MoleculeStmGin.Load(weights, config.Gin, device, GinPrefix);
            return new MolLlamaEncoder(weights, config, llmHidden, uniMol, gin, device);
        }
        catch
        {
            gin?.Dispose();
            uniMol.Dispose();
            throw;
        }
    }

    /// <summary>One molecule: the <c>Q</c> projected query embeddings <c>[Q, hidden]</c> float32.</summary>
    public Tensor Encode(MoleculeFeatures molecule)
    {
        ArgumentNullException.ThrowIfNull(molecule);
        using var output = Forward([molecule]);
        using var row = output.Projected[0];                                                     // [Q, hidden], a view
        return row.clone();
    }

    /// <summary><c>graph_forward</c> + <c>llm_proj</c> on a batch, every stage returned.</summary>
    public MolLlamaEncoderOutput Forward(IReadOnlyList<MoleculeFeatures> molecules)
    {
        ArgumentNullException.ThrowIfNull(molecules);
        if (molecules.Count == 0 || molecules.Any(m => m.Graph.AtomCount == 0))
        {
            throw new ArgumentException("Every molecule needs at least one atom.", nameof(molecules));
        }

        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var (gin, ginMask) = Gin.Forward(molecules.Select(m => m.Graph).ToArray());             // [B, L2, E], [B, L2]
        var (uni, uniMask) = UniMol.Forward(molecules.Select(m => m.UniMol).ToArray());         // [B, L3, D3], [B, L3]
        var (blended, blendedMask) = Blend(gin, ginMask, uni, uniMask);
        var query = Qformer(blended, blendedMask);                                               // [B, Q, H]
        var projected = F.linear(query, _projWeight, _projBias);                                 // [B, Q, hidden]
        var output = new MolLlamaEncoderOutput(uni, uniMask, gin, ginMask, blended, blendedMask, query, projected);
        foreach (var t in new[] { uni, uniMask, gin, ginMask, blended, blendedMask, query, projected })
        {
            t.MoveToOuterDisposeScope();
        }

        return output;
    }

    public void Dispose()
    {
        _tensors.Dispose();
        UniMol.Dispose();
        Gin.Dispose();
    }

    /// <summary>ln_graph per encoder, then <c>BlendingModule.forward</c>: <c>[B, L2 + L3, d]</c> and the concatenated mask.</summary>
    private (Tensor Features, Tensor Mask) Blend(Tensor gin, Tensor ginMask, Tensor uni, Tensor uniMask)
    {
        var mask2 = ginMask.unsqueeze(-1).to(ScalarType.Float32);                               // [B, L2, 1]
        var mask3 = uniMask.unsqueeze(-1).to(ScalarType.Float32);
        var f2 = F.linear(_lnGraph2D.Apply(gin, LayerNormEps), _mlp2DWeight, _mlp2DBias) * mask2;   // [B, L2, d]
        var f3 = F.linear(_lnGraph3D.Apply(uni, LayerNormEps), _mlp3DWeight, _mlp3DBias) * mask3;   // [B, L3, d]
        var keys2 = KeyPaddingBias(ginMask);                                                     // [B, 1, 1, L2]
        var keys3 = KeyPaddingBias(uniMask);
        foreach (var block in _blocks)
        {
            using var scope = NewDisposeScope();
            f2 = Residual(block.SelfAttn2D, f2, f2, f2, keys2) * mask2;
            f3 = Residual(block.SelfAttn3D, f3, f3, f3, keys3) * mask3;
            f2 = Residual(block.CrossAttn3Dto2D, f2, f3, f3, keys3) * mask2;                     // 2-D queries read the 3-D tokens
            f3 = Residual(block.CrossAttn2Dto3D, f3, f2, f2, keys2) * mask3;                     // 3-D queries read the updated 2-D tokens
            f2.MoveToOuterDisposeScope();
            f3.MoveToOuterDisposeScope();
        }

        return (cat([f2, f3], 1), cat([ginMask, uniMask], 1));
    }

    /// <summary>torch's key_padding_mask as an additive bias: 0 for tokens, −∞ for padding. <c>[B, 1, 1, L]</c>.</summary>
    private static Tensor KeyPaddingBias(Tensor mask) =>
        zeros(mask.shape, ScalarType.Float32, mask.device).masked_fill(mask.logical_not(), float.NegativeInfinity).unsqueeze(1).unsqueeze(1);

    /// <summary>
    /// <c>ResidualAttentionBlock.forward(q, k, v, key_padding_mask)</c>: <c>x = q + MHA(ln_q(q), ln_k(k), ln_v(v))</c>,
    /// then <c>x + mlp(ln(x))</c> with a 4× GELU MLP. The attention is torch.nn.MultiheadAttention's (batch_first): packed
    /// in-projection, queries divided by √head_dim, additive key padding mask, softmax, out-projection.
    /// </summary>
    private Tensor Residual(ResidualAttentionBlock block, Tensor q, Tensor k, Tensor v, Tensor keyBias)
    {
        int d = Config.BlendingDim;
        int heads = Config.BlendingHeads;
        int headDim = d / heads;
        long b = q.shape[0];
        long lq = q.shape[1];
        long lk = k.shape[1];
        var w = block.InProjWeight.chunk(3, 0);
        var bias = block.InProjBias.chunk(3, 0);
        var qp = F.linear(block.LnQ.Apply(q, LayerNormEps), w[0], bias[0]).view(b, lq, heads, headDim).transpose(1, 2);   // [B, h, Lq, hd]
        var kp = F.linear(block.LnK.Apply(k, LayerNormEps), w[1], bias[1]).view(b, lk, heads, headDim).transpose(1, 2);   // [B, h, Lk, hd]
        var vp = F.linear(block.LnV.Apply(v, LayerNormEps), w[2], bias[2]).view(b, lk, heads, headDim).transpose(1, 2);
        qp = qp / Math.Sqrt(headDim);
        var attn = (qp.matmul(kp.transpose(-1, -2)) + keyBias).softmax(-1);                      // [B, h, Lq, Lk]
        var o = attn.matmul(vp).transpose(1, 2).reshape(b, lq, d);                               // [B, Lq, d]
        var x = q + F.linear(o, block.OutWeight, block.OutBias);
        return x + F.linear(F.gelu(F.linear(block.Ln.Apply(x, LayerNormEps), block.Mlp0Weight, block.Mlp0Bias)), block.Mlp2Weight, block.Mlp2Bias);
    }

    /// <summary>
    /// <c>Qformer.bert(query_embeds=query_tokens, encoder_hidden_states, encoder_attention_mask)</c>: LayerNorm of the
    /// query tokens, then per layer self-attention, cross-attention to the blended tokens on layers
    /// <c>i % cross_attention_freq == 0</c>, and the query feed-forward (<c>intermediate_query</c> / <c>output_query</c>).
    /// The all-ones self-attention mask adds 0; the encoder mask adds <c>(1 − mask) · finfo(float32).min</c>.
    /// </summary>
    private Tensor Qformer(Tensor encoder, Tensor encoderMask)
    {
        double eps = Config.Bert.LayerNormEps;
        long b = encoder.shape[0];
        var hidden = _embeddingsNorm.Apply(_queryTokens.expand(b, -1, -1), eps);                // [B, Q, H]
        var encoderBias = ((1.0 - encoderMask.to(ScalarType.Float32)) * float.MinValue).unsqueeze(1).unsqueeze(1);   // [B, 1, 1, Lenc]
        foreach (var layer in _bertLayers)
        {
            using var scope = NewDisposeScope();
            var attention = Attention(layer.Attention, hidden, hidden, null, eps);
            if (layer.CrossAttention is { } cross)
            {
                attention = Attention(cross, attention, encoder, encoderBias, eps);
            }

            var intermediate = F.gelu(F.linear(attention, layer.IntermediateWeight, layer.IntermediateBias));
            hidden = layer.OutputNorm.Apply(F.linear(intermediate, layer.OutputWeight, layer.OutputBias) + attention, eps);
            hidden.MoveToOuterDisposeScope();
        }

        return hidden;
    }

    /// <summary>BertAttention: BertSelfAttention (scores / √head_dim + mask, softmax) then BertSelfOutput (dense, LayerNorm with the residual).</summary>
    private Tensor Attention(BertAttention a, Tensor hidden, Tensor keyValue, Tensor? bias, double eps)
    {
        int heads = Config.Bert.AttentionHeads;
        int h = Config.Bert.HiddenSize;
        int headDim = h / heads;
        long b = hidden.shape[0];
        long lq = hidden.shape[1];
        long lk = keyValue.shape[1];
        var q = F.linear(hidden, a.QueryWeight, a.QueryBias).view(b, lq, heads, headDim).transpose(1, 2);   // [B, h, Lq, hd]
        var k = F.linear(keyValue, a.KeyWeight, a.KeyBias).view(b, lk, heads, headDim).transpose(1, 2);     // [B, h, Lk, hd]
        var v = F.linear(keyValue, a.ValueWeight, a.ValueBias).view(b, lk, heads, headDim).transpose(1, 2);
        var scores = q.matmul(k.transpose(-1, -2)) / Math.Sqrt(headDim);                        // [B, h, Lq, Lk]
        if (bias is not null)
        {
            scores = scores + bias;
        }

        var context = scores.softmax(-1).matmul(v).transpose(1, 2).reshape(b, lq, h);            // [B, Lq, H]
        return a.OutputNorm.Apply(F.linear(context, a.DenseWeight, a.DenseBias) + hidden, eps);
    }

    private sealed record Norm(Tensor Weight, Tensor Bias)
    {
        public Tensor Apply(Tensor x, double eps) => F.layer_norm(x, [Weight.shape[0]], Weight, Bias, eps);
    }

    private sealed record ResidualAttentionBlock(
        Tensor InProjWeight, Tensor InProjBias, Tensor OutWeight, Tensor OutBias, Tensor Mlp0Weight, Tensor Mlp0Bias, Tensor Mlp2Weight, Tensor Mlp2Bias,
        Norm LnQ, Norm LnK, Norm LnV, Norm Ln);

    private sealed record CrossAttentionBlock(
        ResidualAttentionBlock SelfAttn2D, ResidualAttentionBlock SelfAttn3D, ResidualAttentionBlock CrossAttn2Dto3D, ResidualAttentionBlock CrossAttn3Dto2D);

    private sealed record BertAttention(
        Tensor QueryWeight, Tensor QueryBias, Tensor KeyWeight, Tensor KeyBias, Tensor ValueWeight, Tensor ValueBias, Tensor DenseWeight, Tensor DenseBias, Norm OutputNorm);

    private sealed record BertLayer(
        BertAttention Attention, BertAttention? CrossAttention, Tensor IntermediateWeight, Tensor IntermediateBias, Tensor OutputWeight, Tensor OutputBias, Norm OutputNorm);
}

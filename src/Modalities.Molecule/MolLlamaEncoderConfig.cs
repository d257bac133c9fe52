using System.Text.Json;
using JudgeHost.Abstractions;

namespace Modalities.Molecule;

/// <summary>UniMol's sizes (<c>SimpleUniMolModel</c>'s constructor defaults are the released model: 15 / 512 / 2048 / 64).</summary>
public sealed record UniMolConfig(int Layers = 15, int EmbedDim = 512, int FfnEmbedDim = 2048, int AttentionHeads = 64);

/// <summary>
/// The Q-Former's BERT sizes. Mol-LLaMA reads them from <c>qformer_config.bert_name</c>'s config
/// (<c>allenai/scibert_scivocab_uncased</c>: the defaults here) and sets <c>encoder_width</c> to the blending width.
/// </summary>
public sealed record QformerBertConfig(
    int HiddenSize = 768, int Layers = 12, int AttentionHeads = 12, int IntermediateSize = 3072, double LayerNormEps = 1e-12, int MaxPositionEmbeddings = 512);

/// <summary>
/// What Mol-LLaMA's encoder is built from, read from a <c>mol_llama</c> config.json (<c>MolLLaMAConfig</c>): the fields
/// the reference reads (<c>qformer_config.{num_query_tokens, cross_attention_freq}</c>,
/// <c>blending_module_config.{num_layers, num_heads}</c>, <c>graph_encoder_config.encoder_types</c>) plus the sizes it
/// fetches from elsewhere, which a local checkpoint may carry (see <c>TinyMolLlamaCheckpoint</c> in the host):
/// <c>graph_encoder_config.unimol_config.{encoder_layers, embed_dim, ffn_embed_dim, attention_heads}</c>,
/// <c>graph_encoder_config.moleculestm_config.{num_layer, emb_dim}</c> and <c>qformer_config.bert_config</c>. Every absent
/// value is the released model's.
/// </summary>
public sealed record MolLlamaEncoderConfig(
    UniMolConfig UniMol,
    MoleculeStmGinConfig Gin,
    int BlendingLayers,
    int BlendingHeads,
    QformerBertConfig Bert,
    int QueryTokens,
    int CrossAttentionFreq)
{
    /// <summary>The released Mol-LLaMA (DongkiKim/Mol-Llama-3.1-8B-Instruct).</summary>
    public static MolLlamaEncoderConfig Reference { get; } = new(new UniMolConfig(), MoleculeStmGinConfig.Reference, 4, 8, new QformerBertConfig(), 8, 2);

    /// <summary>The blending module's width: the widest encoder (<c>max(dims.values())</c>), also the Q-Former's <c>encoder_width</c>.</summary>
    public int BlendingDim => Math.Max(UniMol.EmbedDim, Gin.EmbDim);

    public static MolLlamaEncoderConfig From(JsonElement root)
    {
        var r = Reference;
        var qformer = Child(root, "qformer_config");
        var blending = Child(root, "blending_module_config");
        var graph = Child(root, "graph_encoder_config");
        var unimol = Child(graph, "unimol_config");
        var gin = Child(graph, "moleculestm_config");
        var bert = Child(qformer, "bert_config");

        if (graph is { } g && g.TryGetProperty("encoder_types", out var types))
        {
            var names = types.ValueKind == JsonValueKind.Array ? types.EnumerateArray().Select(t => t.GetString()).Order(StringComparer.Ordinal).ToArray() : [];
            if (!names.SequenceEqual(["moleculestm", "unimol"]))
            {
                throw new CorruptCheckpointException(
                    $"config.json graph_encoder_config.encoder_types is {types.GetRawText()}; the molecule plugin runs Mol-LLaMA's two encoders, [\"unimol\", \"moleculestm\"], blended.");
            }
        }

        if (bert is { } b && b.TryGetProperty("hidden_act", out var act) && act.GetString() != "gelu")
        {
            throw new CorruptCheckpointException($"config.json qformer_config.bert_config.hidden_act is {act.GetRawText()}; the Q-Former runs BERT's \"gelu\" (erf).");
        }

        var config = new MolLlamaEncoderConfig(
            new UniMolConfig(
                Int(unimol, "encoder_layers", r.UniMol.Layers),
                Int(unimol, "embed_dim", r.UniMol.EmbedDim),
                Int(unimol, "ffn_embed_dim", r.UniMol.FfnEmbedDim),
                Int(unimol, "attention_heads", r.UniMol.AttentionHeads)),
            new MoleculeStmGinConfig(Int(gin, "num_layer", r.Gin.NumLayer), Int(gin, "emb_dim", r.Gin.EmbDim)),
            Int(blending, "num_layers", r.BlendingLayers),
            Int(blending, "num_heads", r.BlendingHeads),
            new QformerBertConfig(
                Int(bert, "hidden_size", r.Bert.HiddenSize),
                Int(bert, "num_hidden_layers", r.Bert.Layers),
                Int(bert, "num_attention_heads", r.Bert.AttentionHeads),
                Int(bert, "intermediate_size", r.Bert.IntermediateSize),
                Double(bert, "layer_norm_eps", r.Bert.LayerNormEps),
                Int(bert, "max_position_embeddings", r.Bert.MaxPositionEmbeddings)),
            Int(qformer, "num_query_tokens", r.QueryTokens),
            Int(qformer, "cross_attention_freq", r.CrossAttentionFreq));

        Check(config.UniMol.EmbedDim % config.UniMol.AttentionHeads == 0, "graph_encoder_config.unimol_config: embed_dim must be a multiple of attention_heads");
        Check(config.BlendingDim % config.BlendingHeads == 0, $"blending_module_config.num_heads ({config.BlendingHeads}) must divide the blending width {config.BlendingDim}");
        Check(config.Bert.HiddenSize % config.Bert.AttentionHeads == 0, "qformer_config.bert_config: hidden_size must be a multiple of num_attention_heads");
        Check(config.Gin.NumLayer >= 2, "graph_encoder_config.moleculestm_config.num_layer must be at least 2 (MoleculeSTM refuses fewer)");
        return config;
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
        {
            throw new CorruptCheckpointException($"config.json {what}. Fix the checkpoint's config.json.");
        }
    }

    private static JsonElement? Child(JsonElement? parent, string key) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(key, out var c) && c.ValueKind == JsonValueKind.Object ? c : null;

    private static int Int(JsonElement? parent, string key, int fallback)
    {
        if (parent is not { } p || !p.TryGetProperty(key, out var e))
        {
            return fallback;
        }

        return e.TryGetInt32(out int v) && v > 0
            ? v
            : throw new CorruptCheckpointException($"config.json '{key}' must be a positive integer; got {e.GetRawText()}.");
    }

    private static double Double(JsonElement? parent, string key, double fallback)
    {
        if (parent is not { } p || !p.TryGetProperty(key, out var e))
        {
            return fallback;
        }

        return e.TryGetDouble(out double v) && v > 0
            ? v
            : throw new CorruptCheckpointException($"config.json '{key}' must be a positive number; got {e.GetRawText()}.");
    }
}

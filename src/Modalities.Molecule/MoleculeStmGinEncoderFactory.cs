using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Molecule;

/// <summary>
/// The MoleculeSTM GIN on its own, for checkpoints of family <c>moleculestm</c>: a directory whose config.json has
/// <c>"model_type": "moleculestm"</c>, <c>hidden_size</c> = <c>emb_dim</c> (the width of the tokens it returns),
/// optionally <c>num_layer</c> (default 5), <c>emb_dim</c> (default 300) and <c>weight_prefix</c>, and safetensors
/// holding the GIN under one of <see cref="MoleculeStmGin.KnownPrefixes"/> (found automatically unless
/// <c>weight_prefix</c> names one). Each molecule becomes <c>1 + N</c> tokens: the mean-pooled graph vector, then one
/// vector per atom (the reference's <c>graph_embed</c> without padding), before Mol-LLaMA's <c>ln_graph</c>.
/// This is what <c>judgehost inspect encode --modality molecule --model DIR</c> runs; it does not feed a language
/// model: that is a <c>mol_llama</c> checkpoint (<see cref="MolLlamaMoleculeEncoderFactory"/>).
/// </summary>
public sealed class MoleculeStmGinEncoderFactory(MoleculeFeaturizer featurizer) : IModalityEncoderFactory
{
    public string Modality => "molecule";

    public IReadOnlyList<string> Families => ["moleculestm"];

    /// <summary>Everything: the GIN looks for its own prefix (see <see cref="MoleculeStmGin.KnownPrefixes"/>).</summary>
    public string WeightPrefix => "";

    public IModalityEncoder Create(EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var config = MoleculeStmGinConfig.From(context.Config);
        if (context.HiddenSize != config.EmbDim)
        {
            throw new PluginLoadException(
                $"The MoleculeSTM GIN returns {config.EmbDim}-wide tokens (emb_dim) but the checkpoint's hidden_size is {context.HiddenSize}. "
                + "A 'moleculestm' checkpoint must set hidden_size = emb_dim; the GIN cannot feed a language model of another width on its own; a 'mol_llama' checkpoint (UniMol, blending module, Q-Former, projector) does that.");
        }

        string? prefix = null;
        if (context.Config.ValueKind == System.Text.Json.JsonValueKind.Object
            && context.Config.TryGetProperty("weight_prefix", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.String)
        {
            prefix = p.GetString();
        }

        var gin = MoleculeStmGin.Load(context.Weights, config, context.Device, prefix);
        return new MoleculeStmGinEncoder(featurizer, gin, context.DType);
    }
}

/// <summary>Encodes one molecule (SMILES value or MOL/SDF path) with the GIN: <c>[1 + N, emb_dim]</c>, sequence layout.</summary>
public sealed class MoleculeStmGinEncoder(MoleculeFeaturizer featurizer, MoleculeStmGin gin, ScalarType dtype) : IModalityEncoder
{
    public MoleculeStmGin Gin { get; } = gin;

    public EncodedMedia Encode(MediaItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        cancellationToken.ThrowIfCancellationRequested();
        var graph = featurizer.Graph(item);
        if (graph.AtomCount == 0)
        {
            throw new InvalidMediaException($"The {item.Describe()} has no atoms; the GIN needs at least one. Give a non-empty SMILES or drop the item from the request.");
        }

        var embeddings = Gin.Encode(graph);
        if (embeddings.dtype != dtype)
        {
            using var float32 = embeddings;
            embeddings = float32.to(dtype);
        }

        return new EncodedMedia(embeddings, new PositionLayout.Sequence(1 + graph.AtomCount));
    }

    public void Dispose() => Gin.Dispose();
}

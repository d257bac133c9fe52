using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Molecule;

/// <summary>
/// Molecules for Mol-LLaMA checkpoints (family <c>mol_llama</c>, Flex-Mol-LLaMA): each molecule becomes
/// <c>num_query_tokens</c> (8) embeddings of the Llama hidden size — MoleculeSTM GIN + UniMol, <c>ln_graph</c>, the
/// blending module, the Q-Former and <c>llm_proj</c> (<see cref="MolLlamaEncoder"/>) — laid out as a 1-D run, which
/// the host splices over the 8 <c>&lt;mol&gt;</c> tokens. Weights: the whole checkpoint (<c>encoder.*</c> and
/// <c>llm_proj.*</c> under <c>MolLLaMA.state_dict()</c>'s names). The preprocessing (both encoder inputs) is also
/// exposed through <see cref="IMediaPreprocessor"/> (<c>judgehost inspect molecule</c>).
/// </summary>
public sealed class MolLlamaMoleculeEncoderFactory(MoleculeFeaturizer featurizer) : IModalityEncoderFactory, IMediaPreprocessor
{
    public string Modality => "molecule";

    public IReadOnlyList<string> Families => ["mol_llama"];

    /// <summary>Everything: the encoder reads <c>encoder.*</c> and <c>llm_proj.*</c>, two prefixes.</summary>
    public string WeightPrefix => "";

    public IModalityEncoder Create(EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var config = MolLlamaEncoderConfig.From(context.Config);
        var encoder = MolLlamaEncoder.Load(context.Weights, config, featurizer.Options.Dictionary, context.HiddenSize, context.Device);
        return new MolLlamaMoleculeEncoder(featurizer, encoder, context.DType);
    }

    /// <summary>
    /// Both views of one molecule, under the reference's names: <c>node_feat [N, 9]</c>, <c>edge_index [2, E]</c>,
    /// <c>edge_feat [E, 3]</c> (int64; MoleculeSTM), <c>src_tokens [n+2]</c>, <c>src_edge_type [n+2, n+2]</c> (int64),
    /// <c>src_distance [n+2, n+2]</c> (float32) and <c>src_coord [n+2, 3]</c> (float64; UniMol), plus
    /// <c>atomic_num [N]</c> and <c>src_atomic_num [n]</c> (int64) for inspection.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Preprocess(MediaItem item)
    {
        var f = featurizer.Featurize(item);
        var g = f.Graph;
        var u = f.UniMol;
        int l = u.Length;
        return new Dictionary<string, Tensor>
        {
            ["node_feat"] = tensor(g.AtomFeatures).view(g.AtomCount, MolecularGraph.AtomFeatureCount),
            ["edge_index"] = tensor(g.EdgeIndex).view(2, g.EdgeCount),
            ["edge_feat"] = tensor(g.EdgeFeatures).view(g.EdgeCount, MolecularGraph.BondFeatureCount),
            ["atomic_num"] = tensor(g.AtomicNumbers),
            ["src_tokens"] = tensor(u.Tokens),
            ["src_edge_type"] = tensor(u.EdgeTypes).view(l, l),
            ["src_distance"] = tensor(u.Distances).view(l, l),
            ["src_coord"] = tensor(u.Coordinates).view(l, 3),
            ["src_atomic_num"] = tensor(u.Symbols.Select(s => (long)ElementTable.AtomicNumber(s)).ToArray()),
        };
    }
}

/// <summary>Encodes one molecule (SMILES value or MOL/SDF path) into its <c>[Q, hidden]</c> query embeddings, sequence layout.</summary>
public sealed class MolLlamaMoleculeEncoder(MoleculeFeaturizer featurizer, MolLlamaEncoder encoder, ScalarType dtype) : IModalityEncoder
{
    public MolLlamaEncoder Encoder { get; } = encoder;

    public EncodedMedia Encode(MediaItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        cancellationToken.ThrowIfCancellationRequested();
        var features = featurizer.Featurize(item);
        if (features.Graph.AtomCount == 0)
        {
            throw new InvalidMediaException($"The {item.Describe()} has no atoms; Mol-LLaMA's encoders need at least one. Give a non-empty SMILES or drop the item from the request.");
        }

        var embeddings = Encoder.Encode(features);
        if (embeddings.dtype != dtype)
        {
            using var float32 = embeddings;
            embeddings = float32.to(dtype);
        }

        return new EncodedMedia(embeddings, new PositionLayout.Sequence((int)embeddings.shape[0]));
    }

    public void Dispose() => Encoder.Dispose();
}

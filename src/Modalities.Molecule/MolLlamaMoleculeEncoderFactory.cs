using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Molecule;

/// <summary>
/// Molecules for Mol-LLaMA-style checkpoints. The preprocessing (both encoder inputs) is complete and exposed through
/// <see cref="IMediaPreprocessor"/> (<c>judgehost inspect molecule</c>), and the 2-D encoder (<see cref="MoleculeStmGin"/>)
/// runs on its own through <see cref="MoleculeStmGinEncoderFactory"/>; the rest of the path to Llama embeddings (UniMol,
/// blending module, Q-Former, projector) is not implemented yet (issue #8), so <see cref="Create"/> says so.
/// </summary>
public sealed class MolLlamaMoleculeEncoderFactory(MoleculeFeaturizer featurizer) : IModalityEncoderFactory, IMediaPreprocessor
{
    public string Modality => "molecule";

    public IReadOnlyList<string> Families => ["mol_llama"];

    public string WeightPrefix => "encoder.";

    public IModalityEncoder Create(EncoderContext context) =>
        throw new PluginLoadException(
            "The molecule plugin reads molecules, builds both encoder inputs (see 'judgehost inspect molecule') and runs the MoleculeSTM GIN on its own (a 'moleculestm' checkpoint with 'judgehost inspect encode'), but the rest of Mol-LLaMA's encoder (UniMol, blending module, Q-Former, projector into Llama) is not implemented yet (issue #8). Molecules cannot be judged with this build.");

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

namespace Modalities.Molecule;

/// <summary>
/// OGB's <c>smiles2graph</c> as Flex-Judge / Mol-LLaMA compute it for the MoleculeSTM GIN: 9 integer features per atom
/// (atomic number, chirality, total degree, formal charge, total H, radical electrons, hybridization, aromatic,
/// in ring; each an index into OGB's allowable list, unknown = last index) and 3 per bond (type, stereo, conjugated),
/// every bond listed twice, (begin, end) then (end, begin), in RDKit's bond order.
/// </summary>
/// <param name="AtomCount">Atoms N.</param>
/// <param name="EdgeCount">Directed edges E = 2 × bonds.</param>
/// <param name="AtomFeatures"><c>node_feat [N, 9]</c>, row-major.</param>
/// <param name="AtomicNumbers">Atomic number of each atom <c>[N]</c>.</param>
/// <param name="EdgeIndex"><c>edge_index [2, E]</c>: sources then targets.</param>
/// <param name="EdgeFeatures"><c>edge_feat [E, 3]</c>, row-major.</param>
public sealed record MolecularGraph(int AtomCount, int EdgeCount, long[] AtomFeatures, long[] AtomicNumbers, long[] EdgeIndex, long[] EdgeFeatures)
{
    public const int AtomFeatureCount = 9;
    public const int BondFeatureCount = 3;

    /// <summary>OGB's allowable-list sizes per atom feature (the misc entry included): what the GIN's embedding tables hold.</summary>
    public static IReadOnlyList<int> AtomFeatureDims { get; } = [119, 5, 12, 12, 10, 6, 6, 2, 2];

    /// <summary>OGB's allowable-list sizes per bond feature.</summary>
    public static IReadOnlyList<int> BondFeatureDims { get; } = [5, 6, 2];
}

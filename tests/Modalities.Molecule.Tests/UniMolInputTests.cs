using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Molecule.Tests;

public sealed class UniMolInputTests
{
    [Fact]
    public void MolLlamaDictionary_HasMolDictPlusMask()
    {
        var d = UniMolDictionary.MolLlama;

        Assert.Equal(31, d.Count);
        Assert.Equal(1, d.Bos);
        Assert.Equal(2, d.Eos);
        Assert.Equal(3, d.IndexOf("Pt"));    // not in the dictionary: [UNK]
        Assert.Equal(4, d.IndexOf("C"));
        Assert.Equal(30, d.IndexOf("[MASK]"));
    }

    [Fact]
    public void From_SmallConformer_BuildsTokensPairTypesAndCentredDistances()
    {
        var conformer = new Conformer(["O", "H", "H", "C"], [0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0]);

        var input = UniMolInput.From(conformer, UniMolDictionary.MolLlama);

        Assert.Equal(["O", "C"], input.Symbols);
        Assert.Equal([1L, 6, 4, 2], input.Tokens);
        Assert.Equal((6 * 31) + 4, input.EdgeTypes[(1 * 4) + 2]);
        Assert.Equal([0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0], input.Coordinates);
        Assert.Equal(2f, input.Distances[(1 * 4) + 2]);
        Assert.Equal(1f, input.Distances[(0 * 4) + 1]);   // BOS sits at the origin = the centroid
    }

    [Fact]
    public void From_OnlyHydrogens_KeepsThem()
    {
        var input = UniMolInput.From(new Conformer(["H", "H"], [0, 0, 0, 0.74, 0, 0]), UniMolDictionary.MolLlama);

        Assert.Equal([1L, 8, 8, 2], input.Tokens);
    }

    [Fact]
    public void From_MoreThanMaxAtoms_KeepsASeededSubset()
    {
        var symbols = Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? "C" : "N").ToArray();
        var xyz = Enumerable.Range(0, 60).Select(i => (double)i).ToArray();
        var conformer = new Conformer(symbols, xyz);

        var a = UniMolInput.From(conformer, UniMolDictionary.MolLlama, maxAtoms: 8, seed: 3);
        var b = UniMolInput.From(conformer, UniMolDictionary.MolLlama, maxAtoms: 8, seed: 3);
        var c = UniMolInput.From(conformer, UniMolDictionary.MolLlama, maxAtoms: 8, seed: 4);

        Assert.Equal(10, a.Length);
        Assert.Equal(a.Coordinates, b.Coordinates);
        Assert.NotEqual(a.Coordinates, c.Coordinates);
    }

    [Fact]
    public void Featurize_SeedAttribute_ChangesGeneratedCoordinates()
    {
        var featurizer = new MoleculeFeaturizer(new MoleculeOptions());
        string smiles = "CC(C)Cc1ccc(cc1)C(C)C(=O)O";
        var byDefault = featurizer.Featurize(MediaItem.FromValue("molecule", smiles));
        var again = featurizer.Featurize(MediaItem.FromValue("molecule", smiles));
        var seeded = featurizer.Featurize(new MediaItem("molecule", null, smiles, new Dictionary<string, string> { ["seed"] = "7" }));

        Assert.Equal(byDefault.Conformer.Coordinates, again.Conformer.Coordinates);
        Assert.NotEqual(byDefault.Conformer.Coordinates, seeded.Conformer.Coordinates);
        Assert.Throws<InvalidMediaException>(() => featurizer.Featurize(new MediaItem("molecule", null, smiles, new Dictionary<string, string> { ["seed"] = "x" })));
    }

    [Fact]
    public void Preprocess_Aspirin_ReturnsReferenceNamedTensors()
    {
        var factory = new MolLlamaMoleculeEncoderFactory(new MoleculeFeaturizer(new MoleculeOptions()));

        var tensors = factory.Preprocess(MediaItem.FromValue("molecule", "CC(=O)Oc1ccccc1C(=O)O"));
        try
        {
            Assert.Equal([13L, 9], tensors["node_feat"].shape);
            Assert.Equal([2L, 26], tensors["edge_index"].shape);
            Assert.Equal([26L, 3], tensors["edge_feat"].shape);
            Assert.Equal([15L], tensors["src_tokens"].shape);
            Assert.Equal([15L, 15], tensors["src_edge_type"].shape);
            Assert.Equal(ScalarType.Float32, tensors["src_distance"].dtype);
            Assert.Equal([15L, 3], tensors["src_coord"].shape);
            Assert.Equal(ScalarType.Int64, tensors["node_feat"].dtype);
            Assert.Equal(6L, tensors["src_atomic_num"][0].item<long>());
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
    }
}

using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Molecule.Tests;

/// <summary>
/// The MoleculeSTM GIN against the committed reference (tools/molecule/make_gin_fixtures.py: a plain-PyTorch port of
/// Flex-Judge's moleculestm.py / mol_encoder.py in eval mode, random weights, emb_dim 32, 5 layers) on 20 fixture
/// molecules batched as PyG does: single atoms, salts, multi-fragment records, charged and stereo drug-like molecules.
/// </summary>
public sealed class MoleculeStmGinTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private static string Dir => Path.Combine(MoleculeFixtures.Root, "gin-tiny");

    private static readonly Lazy<string[]> Smiles = new(() =>
        MoleculeFixtures.Strings(System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "reference.json"))).RootElement.GetProperty("smiles")));

    private static MoleculeStmGin LoadGin(out MoleculeStmGinConfig config)
    {
        config = MoleculeStmGinConfig.From(ModelConfigFile.Read(Dir));
        using var files = CheckpointFiles.Open(Dir);
        return MoleculeStmGin.Load(files, config);
    }

    [Fact]
    public void Batch_FromSmiles_MatchesTheReferenceWithin1e4()
    {
        using var gin = LoadGin(out var config);
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        var graphs = Smiles.Value.Select(MoleculeFeaturizer.GraphFromSmiles).ToArray();

        // The plugin's own featurization of the SMILES is the committed input of the reference.
        using (var x = reference.Load("x"))
        using (var edgeIndex = reference.Load("edge_index"))
        using (var edgeAttr = reference.Load("edge_attr"))
        {
            Assert.Equal(x.data<long>().ToArray(), graphs.SelectMany(g => g.AtomFeatures).ToArray());
            Assert.Equal(edgeAttr.data<long>().ToArray(), graphs.SelectMany(g => g.EdgeFeatures).ToArray());
            Assert.Equal(edgeIndex.shape[1], graphs.Sum(g => g.EdgeCount));
        }

        using var expected = reference.Load("graph_embed");
        using var expectedMask = reference.Load("graph_mask");
        var (embed, mask) = gin.Forward(graphs);
        using (embed)
        using (mask)
        {
            Assert.Equal(expected.shape, embed.shape);
            Assert.Equal(config.EmbDim, embed.shape[2]);
            Assert.Equal(expectedMask.data<long>().ToArray(), mask.to(ScalarType.Int64).data<long>().ToArray());
            double diff = (embed - expected).abs().max().item<float>();
            output.WriteLine($"graph_embed [{string.Join(", ", embed.shape)}]: max |C# - reference| = {diff:E2} (|reference| max {expected.abs().max().item<float>():F3})");
            Assert.True(diff <= Tolerance, $"max |diff| = {diff:E2}");
        }
    }

    [Fact]
    public void Batch_FromReferenceTensors_MatchesTheReferenceWithin1e4()
    {
        using var gin = LoadGin(out _);
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        using var x = reference.Load("x");
        using var edgeIndex = reference.Load("edge_index");
        using var edgeAttr = reference.Load("edge_attr");
        using var batch = reference.Load("batch");
        using var expected = reference.Load("graph_embed");
        int[] counts = batch.data<long>().ToArray().GroupBy(b => b).OrderBy(g => g.Key).Select(g => g.Count()).ToArray();

        var (embed, mask) = gin.Forward(x, edgeIndex, edgeAttr, counts);
        using (embed)
        using (mask)
        {
            double diff = (embed - expected).abs().max().item<float>();
            Assert.True(diff <= Tolerance, $"max |diff| = {diff:E2}");
        }
    }

    [Fact]
    public void Encode_OneMolecule_IsItsUnpaddedBatchRow()
    {
        using var gin = LoadGin(out _);
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        using var expected = reference.Load("graph_embed");
        foreach (int b in new[] { 0, 3, 13, 19 })
        {
            var graph = MoleculeFeaturizer.GraphFromSmiles(Smiles.Value[b]);
            using var tokens = gin.Encode(graph);
            Assert.Equal(new long[] { 1 + graph.AtomCount, expected.shape[2] }, tokens.shape);
            using var row = expected[b].narrow(0, 0, 1 + graph.AtomCount);
            double diff = (tokens - row).abs().max().item<float>();
            Assert.True(diff <= Tolerance, $"{Smiles.Value[b]}: max |diff| = {diff:E2}");
        }
    }

    [Fact]
    public void Load_FindsThePrefix_MolLlamaPathOrBareStateDict()
    {
        using var files = CheckpointFiles.Open(Dir);
        Assert.Equal("encoder.graph_encoder.moleculestm.", MoleculeStmGin.FindPrefix(files));
        Assert.Equal("graph_encoder.moleculestm.", MoleculeStmGin.FindPrefix(files.WithPrefix("encoder.")));
        Assert.Equal("", MoleculeStmGin.FindPrefix(files.WithPrefix("encoder.graph_encoder.moleculestm.")));

        var e = Assert.Throws<MissingWeightsException>(() => MoleculeStmGin.FindPrefix(files.WithPrefix("nothing.")));
        Assert.Contains("molecule_node_model.atom_encoder.atom_embedding_list.0.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WrongShapeOrMissingLayer_IsTypedErrorNamingTheTensor()
    {
        using var files = CheckpointFiles.Open(Dir);

        var missing = Assert.Throws<MissingWeightsException>(() => MoleculeStmGin.Load(files, new MoleculeStmGinConfig(6, 32)));
        Assert.Contains("missing encoder.graph_encoder.moleculestm.molecule_node_model.gnns.5.eps", missing.Message, StringComparison.Ordinal);

        var shape = Assert.Throws<MissingWeightsException>(() => MoleculeStmGin.Load(files, MoleculeStmGinConfig.Reference));
        Assert.Contains("atom_encoder.atom_embedding_list.0.weight is [119, 32], expected [119, 300]", shape.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Factory_EncodesASmilesValue_AsGraphTokenThenAtomTokens()
    {
        var featurizer = new MoleculeFeaturizer(new MoleculeOptions());
        var factory = new MoleculeStmGinEncoderFactory(featurizer);
        using var files = CheckpointFiles.Open(Dir);
        var config = ModelConfigFile.Read(Dir);
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        using var expected = reference.Load("graph_embed");

        using var encoder = factory.Create(Context(config, ModelConfigFile.HiddenSize(config, Dir), files.WithPrefix(factory.WeightPrefix)));
        using var encoded = encoder.Encode(MediaItem.FromValue("molecule", Smiles.Value[10]));

        int atoms = MoleculeFeaturizer.GraphFromSmiles(Smiles.Value[10]).AtomCount;
        Assert.Equal(new PositionLayout.Sequence(1 + atoms), encoded.Layout);
        using var row = expected[10].narrow(0, 0, 1 + atoms);
        Assert.True((encoded.Embeddings - row).abs().max().item<float>() <= Tolerance);

        var wrongWidth = Assert.Throws<PluginLoadException>(() => factory.Create(Context(config, 4096, files)));
        Assert.Contains("hidden_size is 4096", wrongWidth.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidSmilesException>(() => encoder.Encode(MediaItem.FromValue("molecule", "C1CC")));
        var empty = Assert.Throws<InvalidMediaException>(() => encoder.Encode(MediaItem.FromValue("molecule", "")));
        Assert.Contains("no atoms", empty.Message, StringComparison.Ordinal);
    }

    private static EncoderContext Context(System.Text.Json.JsonElement config, int hidden, IWeightSource weights) => new()
    {
        Family = "moleculestm",
        Config = config,
        HiddenSize = hidden,
        Device = CPU,
        DType = ScalarType.Float32,
        Weights = weights,
        ModelDirectory = Dir,
        Logger = NullLogger.Instance,
    };
}

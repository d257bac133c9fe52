using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Molecule.Tests;

/// <summary>
/// Mol-LLaMA's encoder (UniMol, MoleculeSTM, ln_graph, blending module, Q-Former, llm_proj) against the committed
/// reference run (tools/molecule/make_mol_llama_fixtures.py: a plain-PyTorch port of Flex-Judge example/ in eval mode,
/// batched and padded as the reference's collaters do) on the tiny checkpoint that <c>tools make-tiny --family
/// mol_llama</c> writes, over 9 fixture molecules featurized here from their SMILES (RDKit conformers, seed 42).
/// </summary>
public sealed class MolLlamaEncoderTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private static string Dir => Path.Combine(MoleculeFixtures.Root, "mol-llama-tiny");

    private static readonly Lazy<JsonElement> Reference = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "reference.json"))).RootElement.Clone());

    private static readonly Lazy<MoleculeFeatures[]> Molecules = new(() =>
    {
        var featurizer = new MoleculeFeaturizer(new MoleculeOptions());
        return MoleculeFixtures.Strings(Reference.Value.GetProperty("smiles")).Select(s => featurizer.Featurize(new MediaItem("molecule", null, s, new Dictionary<string, string>()))).ToArray();
    });

    private static MolLlamaEncoder Load()
    {
        var config = MolLlamaEncoderConfig.From(ModelConfigFile.Read(Dir));
        using var files = CheckpointFiles.Open(Dir);
        return MolLlamaEncoder.Load(files, config, UniMolDictionary.MolLlama, ModelConfigFile.HiddenSize(ModelConfigFile.Read(Dir), Dir));
    }

    [Fact]
    public void Forward_FixtureBatch_MatchesTheReferenceAtEveryStageWithin1e4()
    {
        using var encoder = Load();
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        var molecules = Molecules.Value;
        int[] n3 = molecules.Select(m => m.UniMol.Length).ToArray();
        int[] n2 = molecules.Select(m => m.Graph.AtomCount + 1).ToArray();
        Assert.Equal(MoleculeFixtures.Longs(Reference.Value.GetProperty("unimol_tokens")).Select(x => (int)x), n3);
        Assert.Equal(MoleculeFixtures.Longs(Reference.Value.GetProperty("gin_tokens")).Select(x => (int)x), n2);

        using var result = encoder.Forward(molecules);
        using var uni = reference.Load("unimol_rep");
        using var blended = reference.Load("blended");
        using var query = reference.Load("query");
        using var projected = reference.Load("projected");
        long refL2 = reference["gin_embed"].Shape[1];
        long l2 = result.Gin.shape[1];
        double uniDiff = 0, blendDiff = 0;
        for (int b = 0; b < molecules.Length; b++)
        {
            // Real tokens only: the reference pads UniMol to a multiple of 8, this batch to the longest molecule.
            uniDiff = Math.Max(uniDiff, MaxDiff(result.UniMol[b].narrow(0, 0, n3[b]), uni[b].narrow(0, 0, n3[b])));
            blendDiff = Math.Max(blendDiff, MaxDiff(result.Blended[b].narrow(0, 0, n2[b]), blended[b].narrow(0, 0, n2[b])));
            blendDiff = Math.Max(blendDiff, MaxDiff(result.Blended[b].narrow(0, l2, n3[b]), blended[b].narrow(0, refL2, n3[b])));
        }

        double queryDiff = MaxDiff(result.Query, query);
        double projDiff = MaxDiff(result.Projected, projected);
        output.WriteLine($"max |C# - reference| over {molecules.Length} molecules: UniMol {uniDiff:E2}, blending {blendDiff:E2}, Q-Former {queryDiff:E2}, projected {projDiff:E2} (|projected| max {projected.abs().max().item<float>():F3})");
        Assert.True(uniDiff <= Tolerance, $"UniMol {uniDiff:E2}");
        Assert.True(blendDiff <= Tolerance, $"blending {blendDiff:E2}");
        Assert.True(queryDiff <= Tolerance, $"Q-Former {queryDiff:E2}");
        Assert.True(projDiff <= Tolerance, $"projected {projDiff:E2}");
    }

    [Fact]
    public void Encode_EachMoleculeAlone_GivesTheReferenceEightEmbeddings()
    {
        using var encoder = Load();
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        using var projected = reference.Load("projected");
        double worst = 0;
        long live = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int b = 0; b < Molecules.Value.Length; b++)
        {
            using var embeddings = encoder.Encode(Molecules.Value[b]);
            Assert.Equal([8, 64], embeddings.shape);
            using var row = projected[b];
            worst = Math.Max(worst, MaxDiff(embeddings, row));
        }

        Assert.Equal(live, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);   // nothing left behind

        output.WriteLine($"one molecule at a time: max |C# - reference| = {worst:E2}");
        Assert.True(worst <= Tolerance, $"{worst:E2}");
    }

    [Fact]
    public void Generator_WritesExactlyTheCommittedCheckpoint()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"mol-llama-{Guid.NewGuid():N}");
        try
        {
            TinyMolLlamaCheckpoint.Write(dir);
            Assert.Equal(File.ReadAllText(Path.Combine(Dir, "config.json")), File.ReadAllText(Path.Combine(dir, "config.json")));
            Assert.Equal(File.ReadAllBytes(Path.Combine(Dir, "model.safetensors")), File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Load_WithoutGraphEncoders_SaysWhatToAddAndWhere()
    {
        using var files = CheckpointFiles.Open(Dir);
        var withoutGraphEncoders = new FilteredWeights(files, n => !n.StartsWith("encoder.graph_encoder.", StringComparison.Ordinal));
        var config = MolLlamaEncoderConfig.From(ModelConfigFile.Read(Dir));

        var e = Assert.Throws<MissingWeightsException>(() => MolLlamaEncoder.Load(withoutGraphEncoders, config, UniMolDictionary.MolLlama, 64));
        Assert.Contains("'encoder.graph_encoder.unimol.embed_tokens.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains("mol_pre_no_h_220816.pt", e.Message, StringComparison.Ordinal);
        Assert.Contains("molecule_model.pth", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ConfigDisagreesWithTensors_NamesTheMissingAndMisshapenTensors()
    {
        using var files = CheckpointFiles.Open(Dir);
        var config = MolLlamaEncoderConfig.From(ModelConfigFile.Read(Dir));

        var extraLayer = Assert.Throws<MissingWeightsException>(() => MolLlamaEncoder.Load(files, config with { Bert = config.Bert with { Layers = 5 } }, UniMolDictionary.MolLlama, 64));
        var wrongWidth = Assert.Throws<MissingWeightsException>(() => MolLlamaEncoder.Load(files, config with { Bert = config.Bert with { IntermediateSize = 80 } }, UniMolDictionary.MolLlama, 64));

        Assert.Contains("missing encoder.Qformer.bert.encoder.layer.4.attention.self.query.weight", extraLayer.Message, StringComparison.Ordinal);
        Assert.Contains("encoder.Qformer.bert.encoder.layer.0.intermediate_query.dense.weight is [96, 48], expected [80, 48]", wrongWidth.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_ReleasedFieldsOnly_TakesTheReleasedSizes()
    {
        // MolLLaMAConfig as the released checkpoint saves it: repositories, no sizes.
        using var doc = JsonDocument.Parse("""
            {"model_type": "mol_llama",
             "qformer_config": {"bert_name": "allenai/scibert_scivocab_uncased", "num_query_tokens": 8, "cross_attention_freq": 2, "embed_dim": 256},
             "blending_module_config": {"num_layers": 4, "num_heads": 8},
             "graph_encoder_config": {"encoder_types": ["unimol", "moleculestm"], "unimol_config": {"repo_id": "dptech/Uni-Mol-Models"}, "moleculestm_config": {"repo_id": "chao1224/MoleculeSTM"}},
             "llm_config": {"llm_model": "meta-llama/Llama-3.1-8B-Instruct", "lora_config": {"r": 8, "lora_alpha": 32, "lora_dropout": 0.1}}}
            """);

        var config = MolLlamaEncoderConfig.From(doc.RootElement);

        Assert.Equal(MolLlamaEncoderConfig.Reference, config);
        Assert.Equal(512, config.BlendingDim);
        Assert.Equal(new UniMolConfig(15, 512, 2048, 64), config.UniMol);
        Assert.Equal(new QformerBertConfig(768, 12, 12, 3072, 1e-12, 512), config.Bert);
    }

    [Fact]
    public void Config_OneEncoderOnly_IsRefused()
    {
        using var doc = JsonDocument.Parse("""{"model_type": "mol_llama", "graph_encoder_config": {"encoder_types": ["unimol"]}}""");

        var e = Assert.Throws<CorruptCheckpointException>(() => MolLlamaEncoderConfig.From(doc.RootElement));
        Assert.Contains("encoder_types", e.Message, StringComparison.Ordinal);
    }

    private static double MaxDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a - b).abs().max().item<float>();
    }

    /// <summary>A checkpoint with some tensors hidden (a released Mol-LLaMA checkpoint lacks the graph encoders).</summary>
    private sealed class FilteredWeights(IWeightSource inner, Func<string, bool> keep) : IWeightSource
    {
        public IReadOnlyList<string> Names => inner.Names.Where(keep).ToArray();

        public bool Contains(string name) => keep(name) && inner.Contains(name);

        public long[] GetShape(string name) => Contains(name) ? inner.GetShape(name) : throw new MissingWeightsException($"No tensor {name}.");

        public Tensor Load(string name, ScalarType? dtype = null, Device? device = null) =>
            Contains(name) ? inner.Load(name, dtype, device) : throw new MissingWeightsException($"No tensor {name}.");
    }
}

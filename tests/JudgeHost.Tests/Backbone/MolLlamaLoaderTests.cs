using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>
/// The Mol-LLaMA language model: the tiny peft-layout checkpoint of tools/molecule/make_mol_llama_llm_fixtures.py
/// loads with its LoRA merged, and with the fixture's molecule embeddings spliced over the &lt;mol&gt; runs its
/// logits match the reference's unmerged peft forward; the loader is strict about every tensor.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class MolLlamaLoaderTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int MolId = 257;

    public static string FixtureDir => Path.Combine(RepoPaths.Fixtures, "parity", "mol-llama-llm-tiny");

    private static Tensor Reference(string tensorName)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(FixtureDir, "reference.safetensors"));
        return file.Load(tensorName);
    }

    // The reference's splice: each run of <mol> ids is replaced, in order, by one molecule's query embeddings.
    private static SequenceInput Spliced(long[] ids, Tensor molEmbeds)
    {
        var segments = new List<SequenceSegment>();
        int molecule = 0;
        for (int i = 0; i < ids.Length;)
        {
            int j = i;
            bool mol = ids[i] == MolId;
            while (j < ids.Length && (ids[j] == MolId) == mol)
            {
                j++;
            }

            segments.Add(mol
                ? new SequenceSegment.Embeddings(molEmbeds[molecule++])
                : new SequenceSegment.Tokens(ids[i..j].Select(x => (int)x).ToArray()));
            i = j;
        }

        return new SequenceInput(segments);
    }

    [Fact]
    public void Config_VocabularyIsTheCheckpointsRows_AndLoraComesFromLlmConfig()
    {
        var config = MolLlamaConfig.Load(FixtureDir);

        Assert.Equal(258, config.Decoder.VocabSize);            // text_config says 256 (before resize_token_embeddings)
        Assert.Equal("mol_llama", config.Decoder.ModelType);
        Assert.Equal(4, config.Lora.R);
        Assert.Equal(4.0, config.Lora.ScalingFor("model.layers.0.mlp.down_proj"));
        Assert.Equal(8, config.NumQueryTokens);
        Assert.Null(config.BaseDirectory);                       // llm_model is a hub id, not a local directory
    }

    [Fact]
    public void Fp32Logits_WithSplicedMolecules_MatchReferenceWithin1e4()
    {
        using var model = CheckpointLoader.Load(FixtureDir, ScalarType.Float32, CPU).Model;
        using var ids = Reference("input_ids");
        using var molEmbeds = Reference("mol_embeds");
        using var expected = Reference("logits");

        using var actual = new TextGenerator(model).AllLogits(Spliced(ids.data<long>().ToArray(), molEmbeds));

        double maxDiff = (actual - expected).abs().max().item<float>();
        output.WriteLine($"mol-llama-llm-tiny: fp32 max |diff| = {maxDiff:E2}");
        Assert.True(maxDiff <= 1e-4, $"fp32 max |diff| = {maxDiff:E2}");
    }

    [Fact]
    public void Greedy12Tokens_AfterSplicedPrefix_AreIdentical()
    {
        using var model = CheckpointLoader.Load(FixtureDir, ScalarType.Float32, CPU).Model;
        using var ids = Reference("input_ids");
        using var molEmbeds = Reference("mol_embeds");
        using var expected = Reference("greedy_ids");

        var generated = new TextGenerator(model).Generate([Spliced(ids.data<long>().ToArray(), molEmbeds)], 12, SamplingOptions.Greedy, [])[0];

        Assert.Equal(expected.data<long>().Select(i => (int)i).ToArray(), generated.Tokens);
    }

    [Fact]
    public void WithoutTheAdapter_LogitsAreFarOff_SoTheMergeIsWhatMatches()
    {
        // Same checkpoint with every lora_B zeroed: the base weights alone must not pass the parity check.
        using var dir = new TempDir();
        MolLlamaFixtureEditor.Copy(FixtureDir, dir.Path, tensors =>
        {
            foreach (string name in tensors.Keys.Where(n => n.Contains(".lora_B.", StringComparison.Ordinal)).ToArray())
            {
                tensors[name] = zeros_like(tensors[name]);
            }
        });
        using var model = CheckpointLoader.Load(dir.Path, ScalarType.Float32, CPU).Model;
        using var ids = Reference("input_ids");
        using var molEmbeds = Reference("mol_embeds");
        using var expected = Reference("logits");

        using var actual = new TextGenerator(model).AllLogits(Spliced(ids.data<long>().ToArray(), molEmbeds));

        Assert.True((actual - expected).abs().max().item<float>() > 0.1);
    }

    [Fact]
    public void PluginTensors_AreLeftToThePlugin()
    {
        using var dir = new TempDir();
        MolLlamaFixtureEditor.Copy(FixtureDir, dir.Path, tensors =>
        {
            tensors["llm_proj.weight"] = zeros(64, 32);
            tensors["encoder.query_tokens"] = zeros(1, 8, 32);
        });

        using var model = CheckpointLoader.Load(dir.Path, ScalarType.Float32, CPU).Model;

        Assert.Equal(258, model.Config.VocabSize);
    }

    [Fact]
    public void TinyMolLlamaCheckpoint_LoadsAsATextModel_WithTheReferencesFormatAndTerminators()
    {
        using var dir = new TempDir();
        MolLlamaTestModels.WriteMolLlama(dir.Path, seed: 5);

        using var model = TextModel.Load(dir.Path, ScalarType.Float32, CPU);

        var tokenizer = model.RequireTokenizer();
        Assert.Equal(263, model.Model.Config.VocabSize);
        Assert.Equal(262, tokenizer.TokenToId("<mol>"));
        Assert.Equal(ChatTemplateFormat.MolLlama3, model.RequireTemplate().Format);
        Assert.Equal([tokenizer.TokenToId("<|eot_id|>")!.Value], model.EosIds);     // eos is <|eot_id|> itself here
        Assert.Empty(model.Report.Notes);
    }

    [Fact]
    public void BaseWeightsFromLlmModelDirectory_AsTheReferencesFromPretrained_WithTheTwoNewRowsFilledAndNoted()
    {
        // A Mol-LLaMA checkpoint holding only its adapters (and encoder), whose llm_config.llm_model is a local Llama
        // directory (vocabulary 261 = the base tokenizer's) and whose config.json has no text_config.
        using var dir = new TempDir();
        string mol = dir.Combine("mol"), baseDir = dir.Combine("mol", "base-llama");
        MolLlamaTestModels.WriteMolLlama(mol, seed: 4);
        MolLlamaTestModels.WriteJudge(baseDir, seed: 8);
        MolLlamaFixtureEditor.Copy(mol, mol, t =>
        {
            foreach (string name in t.Keys.Where(n => n.StartsWith("llm.", StringComparison.Ordinal) && !n.Contains(".lora_", StringComparison.Ordinal)).ToArray())
            {
                t.Remove(name);
            }
        }, c =>
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(c)!.AsObject();
            json.Remove("text_config");
            json["llm_config"]!["llm_model"] = "base-llama";
            return json.ToJsonString();
        });

        using var model = TextModel.Load(mol, ScalarType.Float32, CPU);

        string q = "model.layers.1.self_attn.v_proj";
        using var files = CheckpointFiles.Open(mol);
        using var baseFiles = CheckpointFiles.Open(baseDir);
        var weight = model.Model.named_parameters().Single(p => p.name == q + ".weight").parameter;
        using var expected = LoraMerge.Merge(baseFiles.Load(q + ".weight"), files.Load($"llm.base_model.model.{q}.lora_A.default.weight"), files.Load($"llm.base_model.model.{q}.lora_B.default.weight"), 32.0 / 8);
        Assert.Equal(0f, (weight - expected).abs().max().item<float>());
        Assert.Equal(263, model.Model.Config.VocabSize);                      // len(tokenizer), as resize_token_embeddings
        Assert.Equal(2, model.Report.Notes.Count);                            // embed_tokens and lm_head rows 261..262
        var embed = model.Model.named_parameters().Single(p => p.name == "model.embed_tokens.weight").parameter;
        using var baseEmbed = baseFiles.Load("model.embed_tokens.weight");
        Assert.True((embed.narrow(0, 261, 1) - baseEmbed.mean([0], keepdim: true)).abs().max().item<float>() < 1e-6);
    }

    [Theory]
    [InlineData("unexpected", "llm.base_model.model.model.layers.0.extra.weight")]                       // a stray decoder tensor
    [InlineData("unexpected", "vision.tower.weight")]                                                   // outside llm./encoder./llm_proj.
    [InlineData("lora_b_missing", "llm.base_model.model.model.layers.1.mlp.gate_proj.lora_A.default.weight (its lora_B is missing)")]
    [InlineData("lora_missing", "model.layers.0.self_attn.k_proj, but its factors are missing")]          // a target without an adapter
    [InlineData("missing_base", "missing: llm.base_model.model.model.layers.1.self_attn.o_proj.base_layer.weight")]
    [InlineData("rank", "rank 8 from")]                                                                  // config r 8, factors r 4
    public void Problems_AreReportedByName(string problem, string named)
    {
        using var dir = new TempDir();
        const string P = "llm.base_model.model.";
        MolLlamaFixtureEditor.Copy(FixtureDir, dir.Path, tensors =>
        {
            switch (problem)
            {
                case "unexpected":
                    tensors[named] = zeros(2);
                    break;
                case "lora_b_missing":
                    tensors.Remove(P + "model.layers.1.mlp.gate_proj.lora_B.default.weight");
                    break;
                case "lora_missing":
                    tensors.Remove(P + "model.layers.0.self_attn.k_proj.lora_A.default.weight");
                    tensors.Remove(P + "model.layers.0.self_attn.k_proj.lora_B.default.weight");
                    break;
                case "missing_base":
                    tensors.Remove(P + "model.layers.1.self_attn.o_proj.base_layer.weight");
                    break;
            }
        }, configEdit: problem == "rank" ? c => c.Replace("\"r\": 4", "\"r\": 8", StringComparison.Ordinal) : null);

        var e = Assert.Throws<MissingWeightsException>(() => CheckpointLoader.Load(dir.Path, ScalarType.Float32, CPU));

        output.WriteLine(e.Message);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }
}

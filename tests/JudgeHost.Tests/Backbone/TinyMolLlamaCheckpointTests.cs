using System.Text.Json;
using JudgeHost.Backbone;

namespace JudgeHost.Tests.Backbone;

/// <summary>The tiny Mol-LLaMA checkpoint: the reference's key names (peft-wrapped Llama, MolLLaMAEncoder), config, tokens.</summary>
[Collection(TorchCollection.Name)]
public sealed class TinyMolLlamaCheckpointTests
{
    [Theory]
    [InlineData("model.layers.0.self_attn.q_proj.weight", "llm.base_model.model.model.layers.0.self_attn.q_proj.base_layer.weight")]   // attention target
    [InlineData("model.layers.11.mlp.down_proj.weight", "llm.base_model.model.model.layers.11.mlp.down_proj.base_layer.weight")]     // MLP target
    [InlineData("model.layers.0.input_layernorm.weight", "llm.base_model.model.model.layers.0.input_layernorm.weight")]             // not a target
    [InlineData("model.embed_tokens.weight", "llm.base_model.model.model.embed_tokens.weight")]                                     // embedding
    [InlineData("lm_head.weight", "llm.base_model.model.lm_head.weight")]                                                           // head (not a target)
    public void Llm_TransformersName_MapsToPeftKey(string name, string expected) =>
        Assert.Equal(expected, MolLlamaCheckpointKeys.Llm(name));

    [Fact]
    public void Write_WithoutTokenizer_HasEveryModuleUnderTheReferenceNames()
    {
        using var dir = new TempDir();
        TinyMolLlamaCheckpoint.Write(dir.Path);

        using var file = SafeTensorsFile.Open(dir.Combine("model.safetensors"));
        var names = file.Entries.Select(e => e.Name).ToHashSet();
        var shape = new TinyCheckpoint.Shape();
        Assert.Equal([shape.Vocab + 2, shape.Hidden], file["llm.base_model.model.model.embed_tokens.weight"].Shape);
        Assert.Equal([shape.Vocab + 2, shape.Hidden], file["llm.base_model.model.lm_head.weight"].Shape);
        Assert.Equal(shape.Layers * 7, names.Count(n => n.EndsWith(".lora_A.default.weight", StringComparison.Ordinal)));
        Assert.Equal([8, shape.Hidden], file["llm.base_model.model.model.layers.1.mlp.up_proj.lora_A.default.weight"].Shape);
        Assert.Equal([shape.Intermediate, 8], file["llm.base_model.model.model.layers.1.mlp.up_proj.lora_B.default.weight"].Shape);
        Assert.Equal([1, 8, 48], file["encoder.query_tokens"].Shape);
        Assert.Equal([shape.Hidden, 48], file["llm_proj.weight"].Shape);
        Assert.Contains("encoder.Qformer.bert.encoder.layer.2.crossattention.self.key.weight", names);
        Assert.DoesNotContain("encoder.Qformer.bert.encoder.layer.1.crossattention.self.key.weight", names);   // every 2nd layer only
        Assert.DoesNotContain(names, n => n.Contains(".intermediate.", StringComparison.Ordinal) || n.Contains("word_embeddings", StringComparison.Ordinal));
        Assert.Contains("encoder.graph_encoder.unimol.gbf.mul.weight", names);
        Assert.Contains("encoder.graph_encoder.moleculestm.molecule_node_model.batch_norms.1.running_var", names);
        Assert.Contains("encoder.blending_module.cross_attn_blocks.1.cross_attn_block_3Dto2D.attn.in_proj_weight", names);
        Assert.All(names, n => Assert.True(n.StartsWith("encoder.", StringComparison.Ordinal) || n.StartsWith("llm.base_model.model.", StringComparison.Ordinal) || n.StartsWith("llm_proj.", StringComparison.Ordinal), n));

        using var config = JsonDocument.Parse(File.ReadAllText(dir.Combine("config.json")));
        var root = config.RootElement;
        Assert.Equal("mol_llama", root.GetProperty("model_type").GetString());
        Assert.Equal(8, root.GetProperty("llm_config").GetProperty("lora_config").GetProperty("r").GetInt32());
        Assert.Equal(shape.Vocab + 2, root.GetProperty("text_config").GetProperty("vocab_size").GetInt32());
        Assert.Equal(shape.Vocab, root.GetProperty("text_config").GetProperty("pad_token_id").GetInt32());
        Assert.Equal(shape.Hidden, ModelConfigFile.HiddenSize(root, dir.Path));
    }

    [Fact]
    public void Write_WithTokenizer_AddsPadThenMolAfterTheLastId()
    {
        using var dir = new TempDir();
        string llama = Path.Combine(RepoPaths.Fixtures, "tokenizers", "llama3_1");
        TinyMolLlamaCheckpoint.Write(dir.Path, new TinyCheckpoint.Shape(Hidden: 16, Intermediate: 32, Layers: 1, Heads: 2, KvHeads: 1), tokenizerDirectory: llama);

        var tokenizer = HfTokenizer.Load(dir.Path);
        Assert.Equal(128256, tokenizer.TokenToId("[PAD]"));
        Assert.Equal(128257, tokenizer.TokenToId("<mol>"));
        Assert.Equal([128257, 128257], tokenizer.Encode("<mol><mol>"));
        Assert.Equal(128258, tokenizer.VocabSize);
        using var file = SafeTensorsFile.Open(dir.Combine("model.safetensors"));
        Assert.Equal([128258, 16], file["llm.base_model.model.model.embed_tokens.weight"].Shape);
    }
}

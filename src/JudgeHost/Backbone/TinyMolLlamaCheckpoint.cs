using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// Writes a random-weight Mol-LLaMA checkpoint in the reference layout (Flex-Judge <c>example/</c>,
/// <c>MolLLaMA.from_pretrained</c>): <c>config.json</c> with <c>MolLLaMAConfig</c>'s fields and
/// <c>model.safetensors</c> with <c>MolLLaMA.state_dict()</c>'s key names (<see cref="MolLlamaCheckpointKeys"/>), all
/// modules the reference builds at their real structure with small sizes; with a tokenizer, its files with the two
/// tokens the reference adds (<c>[PAD]</c>, then <c>&lt;mol&gt;</c>, after the last id).
/// <para>
/// The released config names repositories instead of sizes: UniMol's and MoleculeSTM's shapes are fixed in their
/// classes, the Q-Former's come from <c>qformer_config.bert_name</c>'s BERT config and the decoder's from
/// <c>llm_config.llm_model</c>'s Llama config. A local checkpoint has to carry them, so the JudgeHost layout adds:
/// <c>graph_encoder_config.unimol_config.{encoder_layers, embed_dim, ffn_embed_dim, attention_heads}</c> (default
/// 15 / 512 / 2048 / 64), <c>graph_encoder_config.moleculestm_config.{num_layer, emb_dim}</c> (5 / 300),
/// <c>qformer_config.bert_config</c> (BERT's <c>hidden_size</c>, <c>num_hidden_layers</c>, <c>num_attention_heads</c>,
/// <c>intermediate_size</c>, <c>hidden_act</c>, <c>layer_norm_eps</c>, <c>max_position_embeddings</c>; default
/// SciBERT's 768 / 12 / 12 / 3072 / gelu / 1e-12 / 512) and <c>text_config</c> (the Llama config.json of the base
/// model with <c>vocab_size</c> = the resized vocabulary). Absent keys take the defaults, which are the released sizes.
/// </para>
/// <para>
/// Unlike the released checkpoint (whose loader ignores missing <c>encoder.graph_encoder.*</c>: it fetches the frozen
/// encoders from their repositories), the tiny one holds both graph encoders, so it is complete on its own.
/// </para>
/// </summary>
public static class TinyMolLlamaCheckpoint
{
    /// <summary>Sizes of the molecule side; defaults are the tiny test sizes (the released ones are in the summary).</summary>
    public sealed record EncoderShape(
        int UniMolLayers = 2,
        int UniMolDim = 32,
        int UniMolFfn = 64,
        int UniMolHeads = 4,
        int GaussianKernels = 128,
        int UniMolDictionary = 31,
        int GinLayers = 2,
        int GinDim = 24,
        int BlendingLayers = 2,
        int BlendingHeads = 4,
        int QformerHidden = 48,
        int QformerLayers = 4,
        int QformerHeads = 4,
        int QformerIntermediate = 96,
        int QformerMaxPositions = 32,
        int CrossAttentionFreq = 2,
        int QueryTokens = 8,
        int LoraR = 8,
        int LoraAlpha = 32);

    /// <summary>OGB's allowable-list sizes (MoleculeSTM's AtomEncoder / BondEncoder tables).</summary>
    private static readonly int[] AtomFeatureDims = [119, 5, 12, 12, 10, 6, 6, 2, 2];

    private static readonly int[] BondFeatureDims = [5, 6, 2];

    /// <summary>
    /// Writes the checkpoint. The decoder is <see cref="TinyCheckpoint"/>'s Llama (<paramref name="decoder"/>'s sizes,
    /// the same random stream) with <c>vocab + 2</c> rows; without <paramref name="tokenizerDirectory"/> the base
    /// vocabulary is <paramref name="decoder"/>.Vocab and no tokenizer files are written.
    /// </summary>
    public static void Write(string directory, TinyCheckpoint.Shape? decoder = null, EncoderShape? encoder = null, string? tokenizerDirectory = null, long seed = 0, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var shape = decoder ?? new TinyCheckpoint.Shape();
        var e = encoder ?? new EncoderShape();
        int baseVocab = shape.Vocab;
        int? eos = null;
        int? bos = null;
        if (tokenizerDirectory is not null)
        {
            var tokenizer = HfTokenizer.Load(tokenizerDirectory);
            baseVocab = tokenizer.VocabSize;
            eos = tokenizer.EosTokenId ?? throw new JudgeHostException($"The tokenizer in '{tokenizerDirectory}' names no eos token; a judge needs one to stop.");
            bos = tokenizer.BosTokenId;
        }

        Directory.CreateDirectory(directory);
        var llm = shape with { Vocab = baseVocab + 2 };
        var text = TinyCheckpoint.DecoderConfig("llama", llm, tie: false, dtype, eos ?? baseVocab - 1);
        if (bos is int b)
        {
            text["bos_token_id"] = b;
        }

        text["pad_token_id"] = baseVocab;
        var options = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(directory, "config.json"), Config(e, text, dtype).ToJsonString(options));
        if (tokenizerDirectory is not null)
        {
            WriteTokenizer(tokenizerDirectory, directory, baseVocab, options);
        }

        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        tensors.AddRange(EncoderTensors(e, seed + 1, dtype));
        var decoderTensors = TinyCheckpoint.DecoderTensors(llama: true, llm, tie: false, seed, dtype);
        var lora = manual_seed(seed + 2);
        foreach (var (name, t) in decoderTensors)
        {
            tensors.Add(new(MolLlamaCheckpointKeys.Llm(name), t));
            if (MolLlamaCheckpointKeys.LoraModule(name, out string leaf) is { } module && leaf == "weight")
            {
                tensors.Add(new(MolLlamaCheckpointKeys.LoraA(module), (randn([e.LoraR, t.shape[1]], generator: lora) * 0.1).to(dtype)));
                tensors.Add(new(MolLlamaCheckpointKeys.LoraB(module), (randn([t.shape[0], e.LoraR], generator: lora) * 0.05).to(dtype)));
            }
        }

        var projector = manual_seed(seed + 3);
        tensors.Add(new(MolLlamaCheckpointKeys.ProjectorPrefix + "weight", (randn([llm.Hidden, e.QformerHidden], generator: projector) * Math.Pow(e.QformerHidden, -0.5)).to(dtype)));
        tensors.Add(new(MolLlamaCheckpointKeys.ProjectorPrefix + "bias", (randn([llm.Hidden], generator: projector) * 0.1).to(dtype)));
        SafeTensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private static JsonObject Config(EncoderShape e, JsonObject text, ScalarType dtype) => new()
    {
        ["architectures"] = new JsonArray("MolLLaMA"),
        ["model_type"] = "mol_llama",
        ["torch_dtype"] = DTypeNames.Name(dtype),
        ["qformer_config"] = new JsonObject
        {
            ["model_type"] = "mol_llama_qformer",
            ["bert_name"] = "allenai/scibert_scivocab_uncased",
            ["num_query_tokens"] = e.QueryTokens,
            ["cross_attention_freq"] = e.CrossAttentionFreq,
            ["embed_dim"] = 256,
            ["bert_config"] = new JsonObject
            {
                ["hidden_size"] = e.QformerHidden,
                ["num_hidden_layers"] = e.QformerLayers,
                ["num_attention_heads"] = e.QformerHeads,
                ["intermediate_size"] = e.QformerIntermediate,
                ["hidden_act"] = "gelu",
                ["layer_norm_eps"] = 1e-12,
                ["max_position_embeddings"] = e.QformerMaxPositions,
            },
        },
        ["blending_module_config"] = new JsonObject
        {
            ["model_type"] = "mol_llama_blending_module",
            ["num_layers"] = e.BlendingLayers,
            ["num_heads"] = e.BlendingHeads,
        },
        ["graph_encoder_config"] = new JsonObject
        {
            ["model_type"] = "mol_llama_graph_encoder",
            ["encoder_types"] = new JsonArray("unimol", "moleculestm"),
            ["unimol_config"] = new JsonObject
            {
                ["model_type"] = "mol_llama_unimol",
                ["repo_id"] = "dptech/Uni-Mol-Models",
                ["weights_filename"] = "mol_pre_no_h_220816.pt",
                ["dictionary_filename"] = "mol.dict.txt",
                ["encoder_layers"] = e.UniMolLayers,
                ["embed_dim"] = e.UniMolDim,
                ["ffn_embed_dim"] = e.UniMolFfn,
                ["attention_heads"] = e.UniMolHeads,
            },
            ["moleculestm_config"] = new JsonObject
            {
                ["model_type"] = "mol_llama_molecule_stm",
                ["repo_id"] = "chao1224/MoleculeSTM",
                ["filename"] = "demo/demo_checkpoints_Graph/molecule_model.pth",
                ["num_layer"] = e.GinLayers,
                ["emb_dim"] = e.GinDim,
            },
        },
        ["llm_config"] = new JsonObject
        {
            ["model_type"] = "mol_llama_llm",
            ["llm_model"] = "meta-llama/Llama-3.1-8B-Instruct",
            ["lora_config"] = new JsonObject { ["model_type"] = "mol_llama_lora", ["r"] = e.LoraR, ["lora_alpha"] = e.LoraAlpha, ["lora_dropout"] = 0.1 },
        },
        ["text_config"] = text,
    };

    /// <summary>
    /// <c>encoder.*</c> under <c>MolLLaMAEncoder</c>'s module names after <c>postprocess_encoder</c>, in module order.
    /// Scales keep every activation O(1) so the parity fixtures exercise non-saturated softmaxes and GELUs.
    /// </summary>
    private static List<KeyValuePair<string, Tensor>> EncoderTensors(EncoderShape e, long seed, ScalarType dtype)
    {
        var gen = manual_seed(seed);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        void Put(string name, Tensor t) => tensors.Add(new(MolLlamaCheckpointKeys.EncoderPrefix + name, t.to(dtype)));
        void Normal(string name, long[] dims, double std, double mean = 0) => Put(name, (randn(dims, generator: gen) * std) + mean);
        void Uniform(string name, long[] dims, double low, double high) => Put(name, (rand(dims, generator: gen) * (high - low)) + low);
        void Linear(string name, int output, int input)
        {
            Normal(name + ".weight", [output, input], Math.Pow(input, -0.5));
            Normal(name + ".bias", [output], 0.1);
        }

        void Norm(string name, int n)
        {
            Normal(name + ".weight", [n], 0.1, 1.0);
            Normal(name + ".bias", [n], 0.1);
        }

        Put("query_tokens", randn([1, e.QueryTokens, e.QformerHidden], generator: gen));

        // UniMol (SimpleUniMolModel): embed_tokens (padding row 0 stays zero), encoder (TransformerEncoderWithPair,
        // no final_head_layer_norm), gbf_proj (NonLinearHead K -> K -> heads), gbf (GaussianLayer).
        string u = "graph_encoder.unimol.";
        var embed = randn([e.UniMolDictionary, e.UniMolDim], generator: gen);
        embed[0].zero_();
        Put(u + "embed_tokens.weight", embed);
        Norm(u + "encoder.emb_layer_norm", e.UniMolDim);
        Norm(u + "encoder.final_layer_norm", e.UniMolDim);
        for (int l = 0; l < e.UniMolLayers; l++)
        {
            string p = $"{u}encoder.layers.{l}.";
            Linear(p + "self_attn.in_proj", 3 * e.UniMolDim, e.UniMolDim);
            Linear(p + "self_attn.out_proj", e.UniMolDim, e.UniMolDim);
            Norm(p + "self_attn_layer_norm", e.UniMolDim);
            Linear(p + "fc1", e.UniMolFfn, e.UniMolDim);
            Linear(p + "fc2", e.UniMolDim, e.UniMolFfn);
            Norm(p + "final_layer_norm", e.UniMolDim);
        }

        Linear(u + "gbf_proj.linear1", e.GaussianKernels, e.GaussianKernels);
        Linear(u + "gbf_proj.linear2", e.UniMolHeads, e.GaussianKernels);
        int edgeTypes = e.UniMolDictionary * e.UniMolDictionary;
        Uniform(u + "gbf.means.weight", [1, e.GaussianKernels], 0, 3);
        Uniform(u + "gbf.stds.weight", [1, e.GaussianKernels], 0.5, 3);
        Normal(u + "gbf.mul.weight", [edgeTypes, 1], 0.1, 1.0);
        Normal(u + "gbf.bias.weight", [edgeTypes, 1], 0.1);

        // MoleculeSTM (GNN, gin): the names of make_gin_fixtures.py / MoleculeStmGin.
        string m = "graph_encoder.moleculestm.molecule_node_model.";
        for (int i = 0; i < AtomFeatureDims.Length; i++)
        {
            Normal($"{m}atom_encoder.atom_embedding_list.{i}.weight", [AtomFeatureDims[i], e.GinDim], 0.3);
        }

        void BatchNorm(string name, int n)
        {
            Normal(name + "weight", [n], 0.2, 1.0);
            Normal(name + "bias", [n], 0.1);
            Normal(name + "running_mean", [n], 0.3);
            Uniform(name + "running_var", [n], 0.5, 1.5);
            tensors.Add(new(MolLlamaCheckpointKeys.EncoderPrefix + name + "num_batches_tracked", tensor(1000L)));
        }

        for (int l = 0; l < e.GinLayers; l++)
        {
            string p = $"{m}gnns.{l}.";
            Normal(p + "eps", [1], 0.1);
            for (int j = 0; j < BondFeatureDims.Length; j++)
            {
                Normal($"{p}bond_encoder.bond_embedding_list.{j}.weight", [BondFeatureDims[j], e.GinDim], 0.3);
            }

            Linear(p + "mlp.0", 2 * e.GinDim, e.GinDim);
            BatchNorm(p + "mlp.1.", 2 * e.GinDim);
            Linear(p + "mlp.3", e.GinDim, 2 * e.GinDim);
        }

        for (int l = 0; l < e.GinLayers; l++)
        {
            BatchNorm($"{m}batch_norms.{l}.", e.GinDim);
        }

        Linear("graph_encoder.moleculestm.graph_pred_linear", 1, e.GinDim);

        // ln_graph per encoder type, then the blending module (hidden = the widest encoder).
        Norm("ln_graph.unimol", e.UniMolDim);
        Norm("ln_graph.moleculestm", e.GinDim);
        int d = Math.Max(e.UniMolDim, e.GinDim);
        for (int l = 0; l < e.BlendingLayers; l++)
        {
            foreach (string block in new[] { "self_attn_block_2D", "self_attn_block_3D", "cross_attn_block_2Dto3D", "cross_attn_block_3Dto2D" })
            {
                string p = $"blending_module.cross_attn_blocks.{l}.{block}.";
                Normal(p + "attn.in_proj_weight", [3 * d, d], Math.Pow(d, -0.5));
                Normal(p + "attn.in_proj_bias", [3 * d], 0.1);
                Linear(p + "attn.out_proj", d, d);
                Linear(p + "mlp.0", 4 * d, d);
                Linear(p + "mlp.2", d, 4 * d);
                Norm(p + "ln_q", d);
                Norm(p + "ln_k", d);
                Norm(p + "ln_v", d);
                Norm(p + "ln", d);
            }
        }

        Linear("blending_module.mlp.unimol.0", d, e.UniMolDim);
        Linear("blending_module.mlp.moleculestm.0", d, e.GinDim);

        // Q-Former (BertLMHeadModel.bert after postprocess_encoder: no word/position embeddings, no text FFN, no cls).
        int h = e.QformerHidden;
        Norm("Qformer.bert.embeddings.LayerNorm", h);
        tensors.Add(new(MolLlamaCheckpointKeys.EncoderPrefix + "Qformer.bert.embeddings.position_ids", arange(e.QformerMaxPositions, ScalarType.Int64).unsqueeze(0)));
        for (int l = 0; l < e.QformerLayers; l++)
        {
            string p = $"Qformer.bert.encoder.layer.{l}.";
            Linear(p + "attention.self.query", h, h);
            Linear(p + "attention.self.key", h, h);
            Linear(p + "attention.self.value", h, h);
            Linear(p + "attention.output.dense", h, h);
            Norm(p + "attention.output.LayerNorm", h);
            if (l % e.CrossAttentionFreq == 0)
            {
                Linear(p + "crossattention.self.query", h, h);
                Linear(p + "crossattention.self.key", h, d);
                Linear(p + "crossattention.self.value", h, d);
                Linear(p + "crossattention.output.dense", h, h);
                Norm(p + "crossattention.output.LayerNorm", h);
            }

            Linear(p + "intermediate_query.dense", e.QformerIntermediate, h);
            Linear(p + "output_query.dense", h, e.QformerIntermediate);
            Norm(p + "output_query.LayerNorm", h);
        }

        return tensors;
    }

    /// <summary>
    /// The tokenizer files with <c>[PAD]</c> (the pad token) and <c>&lt;mol&gt;</c> (an additional special token) added
    /// after the last id, as <c>tokenizer.add_special_tokens</c> does in the reference's scripts.
    /// </summary>
    private static void WriteTokenizer(string source, string directory, int baseVocab, JsonSerializerOptions options)
    {
        var added = new[] { (Id: baseVocab, Content: "[PAD]"), (Id: baseVocab + 1, Content: "<mol>") };
        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "tokenizer.json")))!.AsObject();
        var list = tokenizer["added_tokens"] as JsonArray ?? [];
        tokenizer["added_tokens"] = list;
        foreach (var (id, content) in added)
        {
            list.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        }

        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizer.ToJsonString());
        string configPath = Path.Combine(source, "tokenizer_config.json");
        var config = File.Exists(configPath) ? JsonNode.Parse(File.ReadAllText(configPath))!.AsObject() : [];
        var decoder = config["added_tokens_decoder"] as JsonObject ?? [];
        config["added_tokens_decoder"] = decoder;
        foreach (var (id, content) in added)
        {
            decoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = content, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false, ["single_word"] = false, ["special"] = true,
            };
        }

        config["pad_token"] = "[PAD]";
        config["additional_special_tokens"] = new JsonArray("<mol>");
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(options));
        var map = new JsonObject { ["pad_token"] = "[PAD]", ["additional_special_tokens"] = new JsonArray("<mol>") };
        foreach (string key in new[] { "bos_token", "eos_token" })
        {
            if (config[key] is JsonValue v)
            {
                map[key] = v.GetValue<string>();
            }
        }

        File.WriteAllText(Path.Combine(directory, "special_tokens_map.json"), map.ToJsonString(options));
    }
}

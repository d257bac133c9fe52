using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// Writes random-weight checkpoints in the exact Hugging Face layout (config.json, generation_config.json,
/// model.safetensors with transformers' key names) so tests and benchmarks need no download.
/// Families: <c>qwen2</c> (q/k/v bias, tied by default) and <c>llama</c> (llama3 RoPE scaling, untied by default).
/// </summary>
public static class TinyCheckpoint
{
    /// <summary>Decoder dimensions of a generated checkpoint.</summary>
    /// <param name="Vocab">vocab_size.</param>
    /// <param name="Hidden">hidden_size.</param>
    /// <param name="Intermediate">intermediate_size.</param>
    /// <param name="Layers">num_hidden_layers.</param>
    /// <param name="Heads">num_attention_heads.</param>
    /// <param name="KvHeads">num_key_value_heads.</param>
    /// <param name="InitializerRange">Null: the wide test initialisation (random norms and biases, large embeddings, so
    /// parity tests exercise every term). A value: transformers' <c>_init_weights</c> for a model about to be trained —
    /// Linear and Embedding weights N(0, value), biases 0, RMSNorm weights 1 — and <c>initializer_range</c> in config.json.</param>
    public sealed record Shape(int Vocab = 256, int Hidden = 64, int Intermediate = 128, int Layers = 2, int Heads = 4, int KvHeads = 2, double? InitializerRange = null);

    /// <summary>The Qwen2-0.5B shape (for benchmarks).</summary>
    public static Shape Qwen2HalfB { get; } = new(151936, 896, 4864, 24, 14, 2);

    /// <summary>
    /// Writes a random checkpoint whose vocabulary, special ids and chat template come from a real tokenizer
    /// (tokenizer.json + tokenizer_config.json copied next to the weights), so text prompts run end to end.
    /// </summary>
    public static void WriteWithTokenizer(string directory, string family, Shape shape, string tokenizerDirectory, bool? tied = null, long seed = 0, ScalarType dtype = ScalarType.Float32)
    {
        var tokenizer = HfTokenizer.Load(tokenizerDirectory);
        int eos = tokenizer.EosTokenId ?? throw new JudgeHostException($"The tokenizer in '{tokenizerDirectory}' names no eos token; a judge needs one to stop.");
        Write(directory, family, shape with { Vocab = tokenizer.VocabSize }, tied, seed, dtype, eos);
        foreach (string file in new[] { "tokenizer.json", "tokenizer_config.json" })
        {
            string source = Path.Combine(tokenizerDirectory, file);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(directory, file), overwrite: true);
            }
        }
    }

    public static void Write(string directory, string family, Shape shape, bool? tied = null, long seed = 0, ScalarType dtype = ScalarType.Float32, int? eosId = null)
    {
        if (family is not ("qwen2" or "llama"))
        {
            throw new JudgeHostException($"Unknown tiny-checkpoint family '{family}'. Use qwen2, llama, qwen2_5_vl, qwen2_5_omni or mol_llama.");
        }

        bool tie = tied ?? family == "qwen2";
        bool llama = family == "llama";
        Directory.CreateDirectory(directory);
        int eos = eosId ?? shape.Vocab - 1;
        var config = DecoderConfig(family, shape, tie, dtype, eos);
        var options = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(options));
        var generation = new JsonObject
        {
            ["bos_token_id"] = llama ? 0 : eos,
            ["eos_token_id"] = llama && eosId is null ? new JsonArray(eos, eos - 1) : eos,
            ["do_sample"] = false,
        };
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), generation.ToJsonString(options));

        using var scope = NewDisposeScope();
        var tensors = DecoderTensors(llama, shape, tie, seed, dtype);
        SafeTensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>The config.json of a tiny <c>qwen2</c> or <c>llama</c> decoder (<see cref="Write"/>'s).</summary>
    internal static JsonObject DecoderConfig(string family, Shape shape, bool tie, ScalarType dtype, int eos)
    {
        bool llama = family == "llama";
        int headDim = shape.Hidden / shape.Heads;
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(llama ? "LlamaForCausalLM" : "Qwen2ForCausalLM"),
            ["model_type"] = family,
            ["vocab_size"] = shape.Vocab,
            ["hidden_size"] = shape.Hidden,
            ["intermediate_size"] = shape.Intermediate,
            ["num_hidden_layers"] = shape.Layers,
            ["num_attention_heads"] = shape.Heads,
            ["num_key_value_heads"] = shape.KvHeads,
            ["head_dim"] = headDim,
            ["hidden_act"] = "silu",
            ["max_position_embeddings"] = llama ? 131072 : 32768,
            ["rms_norm_eps"] = llama ? 1e-5 : 1e-6,
            ["rope_theta"] = llama ? 500000.0 : 1000000.0,
            ["tie_word_embeddings"] = tie,
            ["torch_dtype"] = DTypeNames.Name(dtype),
            ["bos_token_id"] = llama ? 0 : eos,
            ["eos_token_id"] = eos,
            ["attention_dropout"] = 0.0,
            ["initializer_range"] = shape.InitializerRange ?? 0.02,
        };
        if (llama)
        {
            config["attention_bias"] = false;
            config["mlp_bias"] = false;
            config["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 64,
            };
        }
        else
        {
            config["use_sliding_window"] = false;
            config["sliding_window"] = 32768;
            config["max_window_layers"] = shape.Layers;
            config["rope_scaling"] = null;
        }


        return config;
    }

    /// <summary>
    /// The decoder's random tensors under transformers' names (<c>model.*</c>, <c>lm_head.weight</c> unless tied), in
    /// the order and from the random stream <see cref="Write"/> uses: one generator seeded with <paramref name="seed"/>.
    /// Created in the caller's dispose scope.
    /// </summary>
    internal static List<KeyValuePair<string, Tensor>> DecoderTensors(bool llama, Shape shape, bool tie, long seed, ScalarType dtype)
    {
        int headDim = shape.Hidden / shape.Heads;
        var gen = manual_seed(seed);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        double? range = shape.InitializerRange;
        void Add(string name, long[] dims, double std, double mean = 0)
        {
            if (range is { } r)
            {
                // transformers' _init_weights: norms 1, biases 0, every matrix N(0, initializer_range).
                (std, mean) = name.EndsWith("norm.weight", StringComparison.Ordinal) ? (0.0, 1.0) : name.EndsWith(".bias", StringComparison.Ordinal) ? (0.0, 0.0) : (r, 0.0);
            }

            var t = (randn(dims, generator: gen) * std) + mean;
            tensors.Add(new(name, t.to(dtype)));
        }

        Add("model.embed_tokens.weight", [shape.Vocab, shape.Hidden], 0.5);
        for (int i = 0; i < shape.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            Add(p + "input_layernorm.weight", [shape.Hidden], 0.1, 1.0);
            Add(p + "self_attn.q_proj.weight", [shape.Heads * headDim, shape.Hidden], 0.1);
            Add(p + "self_attn.k_proj.weight", [shape.KvHeads * headDim, shape.Hidden], 0.1);
            Add(p + "self_attn.v_proj.weight", [shape.KvHeads * headDim, shape.Hidden], 0.1);
            if (!llama)
            {
                Add(p + "self_attn.q_proj.bias", [shape.Heads * headDim], 0.1);
                Add(p + "self_attn.k_proj.bias", [shape.KvHeads * headDim], 0.1);
                Add(p + "self_attn.v_proj.bias", [shape.KvHeads * headDim], 0.1);
            }

            Add(p + "self_attn.o_proj.weight", [shape.Hidden, shape.Heads * headDim], 0.1);
            Add(p + "post_attention_layernorm.weight", [shape.Hidden], 0.1, 1.0);
            Add(p + "mlp.gate_proj.weight", [shape.Intermediate, shape.Hidden], 0.1);
            Add(p + "mlp.up_proj.weight", [shape.Intermediate, shape.Hidden], 0.1);
            Add(p + "mlp.down_proj.weight", [shape.Hidden, shape.Intermediate], 0.1);
        }

        Add("model.norm.weight", [shape.Hidden], 0.1, 1.0);
        if (!tie)
        {
            Add("lm_head.weight", [shape.Vocab, shape.Hidden], 0.1);
        }

        return tensors;
    }
}

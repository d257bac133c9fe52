using System.Text.Json.Nodes;
using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>
/// Test inputs for the Mol-LLaMA language side: tokenizers with Mol-LLaMA's two added tokens and a tiny random
/// Mol-LLaMA decoder (peft layout, LoRA on the seven projections, no encoder tensors), plus a tiny Llama "judge" that
/// shares its vocabulary minus the two added rows (what <c>tools import-judge</c> combines).
/// </summary>
public static class MolLlamaTestModels
{
    public static readonly string[] LlamaSpecials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];

    private static readonly Lazy<string> FullTokenizerDir = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "judgehost-tests", "mol-llama-tokenizer-" + Environment.ProcessId);
        WriteFullTokenizer(dir);
        return dir;
    });

    /// <summary>The Llama-3.1 tokenizer fixture with <c>[PAD]</c> (128256) and <c>&lt;mol&gt;</c> (128257) added, as Mol-LLaMA ships it.</summary>
    public static HfTokenizer FullTokenizer { get; } = HfTokenizer.Load(FullTokenizerDir.Value);

    public static void WriteFullTokenizer(string dir)
    {
        Directory.CreateDirectory(dir);
        string source = Path.Combine(RepoPaths.Fixtures, "tokenizers", "llama3_1");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "tokenizer.json")))!;
        var added = json["added_tokens"]!.AsArray();
        int next = added.Max(t => (int)t!["id"]!) + 1;
        added.Add(Added(next, MolLlamaConfig.PadToken));
        added.Add(Added(next + 1, MolLlamaConfig.MolToken));
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "tokenizer_config.json")))!;
        config["pad_token"] = MolLlamaConfig.PadToken;
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
    }

    /// <summary>
    /// A byte-level tokenizer small enough for a tiny model: the Llama-3 pre-tokenizer, the 256 byte tokens (ids 0..255,
    /// as in Llama 3) without merges, the five Llama-3 specials (256..260) and, when <paramref name="molTokens"/>,
    /// <c>[PAD]</c> 261 and <c>&lt;mol&gt;</c> 262. Eos <c>&lt;|eot_id|&gt;</c>.
    /// </summary>
    public static int WriteTinyTokenizer(string dir, bool molTokens)
    {
        Directory.CreateDirectory(dir);
        string source = Path.Combine(RepoPaths.Fixtures, "tokenizers", "llama3_1");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "tokenizer.json")))!;
        var vocab = new JsonObject();
        foreach (var (token, id) in json["model"]!["vocab"]!.AsObject())
        {
            if (id!.GetValue<int>() < 256)
            {
                vocab[token] = id.GetValue<int>();
            }
        }

        json["model"]!["vocab"] = vocab;
        json["model"]!["merges"] = new JsonArray();
        json["post_processor"] = null;
        var added = new JsonArray();
        string[] specials = molTokens ? [.. LlamaSpecials, MolLlamaConfig.PadToken, MolLlamaConfig.MolToken] : LlamaSpecials;
        for (int i = 0; i < specials.Length; i++)
        {
            added.Add(Added(256 + i, specials[i]));
        }

        json["added_tokens"] = added;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        var config = new JsonObject { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>", ["clean_up_tokenization_spaces"] = true };
        if (molTokens)
        {
            config["pad_token"] = MolLlamaConfig.PadToken;
        }

        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
        return 256 + specials.Length;
    }

    /// <summary>The tiny decoder shape both test models share.</summary>
    public static TinyCheckpoint.Shape Shape(int vocab) => new(vocab, 32, 64, 2, 4, 2);

    /// <summary>
    /// A tiny Llama judge (tools make-tiny layout) with the tiny tokenizer without Mol-LLaMA's tokens: vocab 261,
    /// untied. <paramref name="tied"/> makes it share the embedding as the head.
    /// </summary>
    public static void WriteJudge(string dir, long seed, bool tied = false)
    {
        string tok = Path.Combine(dir, "_tok");
        WriteTinyTokenizer(tok, molTokens: false);
        TinyCheckpoint.WriteWithTokenizer(dir, "llama", Shape(261), tok, tied, seed);
        Directory.Delete(tok, recursive: true);
    }

    /// <summary>
    /// A tiny Mol-LLaMA language model: a random Llama of vocabulary 263 (the judge's 261 + [PAD] + &lt;mol&gt;) in
    /// MolLLaMA.state_dict() layout with random LoRA factors (r 2, alpha 4) on the seven projections, config.json with
    /// the Llama as text_config, and the tiny tokenizer with the two added tokens.
    /// </summary>
    public static void WriteMolLlama(string dir, long seed)
    {
        string llama = Path.Combine(dir, "_llama");
        WriteTinyTokenizer(dir, molTokens: true);
        TinyCheckpoint.WriteWithTokenizer(llama, "llama", Shape(263), dir, tied: false, seed);
        var text = JsonNode.Parse(File.ReadAllText(Path.Combine(llama, "config.json")))!;
        text["vocab_size"] = 261;                                     // the base Llama's, before resize_token_embeddings
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("MolLLaMA"),
            ["model_type"] = MolLlamaConfig.ModelType,
            ["llm_config"] = new JsonObject
            {
                ["llm_model"] = "meta-llama/Llama-3.1-8B-Instruct",
                ["lora_config"] = new JsonObject { ["r"] = 2, ["lora_alpha"] = 4, ["lora_dropout"] = 0.1 },
            },
            ["qformer_config"] = new JsonObject { ["num_query_tokens"] = 8 },
            ["text_config"] = text,
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

        using var scope = NewDisposeScope();
        var g = manual_seed(seed + 1000);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using (var st = SafeTensorsFile.Open(Path.Combine(llama, "model.safetensors")))
        {
            foreach (var entry in st.Entries)
            {
                var t = st.Load(entry.Name);
                string module = entry.Name.EndsWith(".weight", StringComparison.Ordinal) ? entry.Name[..^7] : entry.Name;
                if (module.StartsWith("model.layers.", StringComparison.Ordinal) && LoraSettings.LlamaProjections.Any(p => module.EndsWith("." + p, StringComparison.Ordinal)))
                {
                    tensors.Add(new($"{MolLlamaConfig.LlmPrefix}{module}.base_layer.weight", t));
                    tensors.Add(new($"{MolLlamaConfig.LlmPrefix}{module}.lora_A.default.weight", randn([2, t.shape[1]], generator: g) * 0.2));
                    tensors.Add(new($"{MolLlamaConfig.LlmPrefix}{module}.lora_B.default.weight", randn([t.shape[0], 2], generator: g) * 0.1));
                }
                else
                {
                    tensors.Add(new(MolLlamaConfig.LlmPrefix + entry.Name, t));
                }
            }
        }

        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        Directory.Delete(llama, recursive: true);
    }

    private static JsonObject Added(int id, string content) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
    };
}

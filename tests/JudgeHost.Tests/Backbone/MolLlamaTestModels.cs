using System.Text.Json.Nodes;
using JudgeHost.Backbone;

namespace JudgeHost.Tests.Backbone;

/// <summary>
/// Test inputs for the Mol-LLaMA language side: tokenizers with Mol-LLaMA's two added tokens, a tiny Mol-LLaMA and a
/// tiny Llama "judge" that shares its vocabulary minus the two added rows (what <c>tools import-judge</c> combines).
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
    /// A tiny Mol-LLaMA (<see cref="TinyMolLlamaCheckpoint"/>, the reference layout: encoder, projector, peft-wrapped
    /// Llama with LoRA r 8 / alpha 32) whose base vocabulary is the tiny tokenizer's 261 tokens, plus [PAD] and &lt;mol&gt;.
    /// </summary>
    public static void WriteMolLlama(string dir, long seed)
    {
        string tok = Path.Combine(Path.GetTempPath(), "judgehost-tests", "tiny-tokenizer-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            WriteTinyTokenizer(tok, molTokens: false);
            TinyMolLlamaCheckpoint.Write(dir, Shape(261), tokenizerDirectory: tok, seed: seed);
        }
        finally
        {
            Directory.Delete(tok, recursive: true);
        }
    }

    private static JsonObject Added(int id, string content) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
    };
}

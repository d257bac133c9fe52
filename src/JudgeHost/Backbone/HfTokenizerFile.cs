using System.Text.Json;
using System.Text.RegularExpressions;
using JudgeHost.Abstractions;

namespace JudgeHost.Backbone;

/// <summary>One entry of tokenizer.json's <c>added_tokens</c>: matched in the raw text before BPE and given one id.</summary>
internal sealed record HfAddedToken(int Id, string Content, bool Special, bool SingleWord, bool LStrip, bool RStrip, bool Normalized);

/// <summary>One regex split of the pre-tokenizer: Split (behaviour Isolated or Removed) or ByteLevel with use_regex.</summary>
internal sealed record HfSplitRule(Regex Pattern, bool RemoveMatches, bool AddPrefixSpace);

/// <summary>
/// The parts of a Hugging Face <c>tokenizer.json</c> (+ <c>tokenizer_config.json</c>) that a byte-level BPE tokenizer
/// needs, read and checked up front so that anything this host cannot reproduce exactly fails at load time with a
/// message naming the file, rather than producing ids that differ from the model's.
/// </summary>
internal sealed class HfTokenizerFile
{
    // GPT-2's pattern, used by a ByteLevel pre-tokenizer with use_regex: true (tokenizers' ByteLevel::default()).
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public required Dictionary<string, int> Vocab { get; init; }

    public required List<string> Merges { get; init; }

    public required List<HfAddedToken> AddedTokens { get; init; }

    public required bool Nfc { get; init; }

    public required List<HfSplitRule> Splits { get; init; }

    public required bool IgnoreMerges { get; init; }

    public required int[] PrefixIds { get; init; }

    public required int[] SuffixIds { get; init; }

    public string? BosToken { get; init; }

    public string? EosToken { get; init; }

    public string? PadToken { get; init; }

    public bool CleanUpTokenizationSpaces { get; init; }

    public string? ChatTemplate { get; init; }

    public static HfTokenizerFile Read(string tokenizerJsonPath, string? tokenizerConfigPath)
    {
        using var doc = ParseJson(tokenizerJsonPath);
        var root = doc.RootElement;
        var model = Required(root, "model", tokenizerJsonPath);
        string modelType = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "BPE";
        if (modelType != "BPE")
        {
            throw Unsupported(tokenizerJsonPath, $"model type '{modelType}'");
        }

        foreach (string option in (string[])["continuing_subword_prefix", "end_of_word_suffix"])
        {
            if (model.TryGetProperty(option, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0)
            {
                throw Unsupported(tokenizerJsonPath, $"BPE option {option} = '{v.GetString()}'");
            }
        }

        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
        {
            throw Unsupported(tokenizerJsonPath, "BPE dropout");
        }

        // Only the plain ByteLevel decoder: a Sequence (Replace, Strip, ByteFallback...) belongs to SentencePiece-style
        // BPE, whose ids this class would get wrong.
        if (!root.TryGetProperty("decoder", out var decoder) || decoder.ValueKind != JsonValueKind.Object
            || !decoder.TryGetProperty("type", out var decoderType) || decoderType.GetString() != "ByteLevel")
        {
            throw Unsupported(tokenizerJsonPath, "a decoder other than ByteLevel (not a byte-level BPE tokenizer)");
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in Required(model, "vocab", tokenizerJsonPath).EnumerateObject())
        {
            vocab[entry.Name] = entry.Value.GetInt32();
        }

        var (prefix, suffix) = ReadPostProcessor(root, tokenizerJsonPath, out var processorTokens);
        var config = ReadConfig(tokenizerConfigPath);
        return new HfTokenizerFile
        {
            Vocab = vocab,
            Merges = ReadMerges(Required(model, "merges", tokenizerJsonPath), tokenizerJsonPath),
            AddedTokens = ReadAddedTokens(root),
            Nfc = ReadNormalizer(root.TryGetProperty("normalizer", out var n) ? n : default, tokenizerJsonPath),
            Splits = ReadPreTokenizer(root.TryGetProperty("pre_tokenizer", out var p) ? p : default, tokenizerJsonPath),
            IgnoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True,
            PrefixIds = prefix,
            SuffixIds = suffix,
            BosToken = TokenString(config, "bos_token") ?? (prefix.Length > 0 ? processorTokens.FirstOrDefault() : null),
            EosToken = TokenString(config, "eos_token"),
            PadToken = TokenString(config, "pad_token"),
            CleanUpTokenizationSpaces = config.ValueKind == JsonValueKind.Object
                && config.TryGetProperty("clean_up_tokenization_spaces", out var c) && c.ValueKind == JsonValueKind.True,
            ChatTemplate = ReadChatTemplate(config),
        };
    }

    internal static JsonDocument ParseJson(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var doc = JsonDocument.Parse(stream);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new CorruptCheckpointException($"'{path}' is not a JSON object. Re-download the checkpoint's tokenizer files.");
            }

            return doc;
        }
        catch (JsonException e)
        {
            throw new CorruptCheckpointException($"'{path}' is not valid JSON ({e.Message}). Re-download the checkpoint's tokenizer files.", e);
        }
    }

    private static JsonElement Required(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new CorruptCheckpointException($"'{path}' has no '{name}'. Re-download the checkpoint's tokenizer files.");

    private static JudgeHostException Unsupported(string path, string what) =>
        new($"'{path}' uses {what}, which this host does not support: only byte-level BPE tokenizers " +
            "(Qwen2, Qwen2.5, Qwen3, Llama 3, Llama 3.1) are. Use a checkpoint of one of those families.");

    private static List<string> ReadMerges(JsonElement merges, string path)
    {
        var result = new List<string>(merges.GetArrayLength());
        foreach (var merge in merges.EnumerateArray())
        {
            // tokenizers >= 0.20 writes ["a", "b"]; older files write "a b". Byte-level tokens never hold a space.
            string? left = null, right = null;
            if (merge.ValueKind == JsonValueKind.String)
            {
                string[] parts = merge.GetString()!.Split(' ');
                (left, right) = parts.Length == 2 ? (parts[0], parts[1]) : (null, null);
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                (left, right) = (merge[0].GetString(), merge[1].GetString());
            }

            if (left is null || right is null || left.Contains(' ', StringComparison.Ordinal) || right.Contains(' ', StringComparison.Ordinal))
            {
                throw new CorruptCheckpointException($"'{path}' has a malformed merge {merge.GetRawText()}. Re-download the checkpoint's tokenizer files.");
            }

            result.Add($"{left} {right}");
        }

        return result;
    }

    private static List<HfAddedToken> ReadAddedTokens(JsonElement root)
    {
        var result = new List<HfAddedToken>();
        if (!root.TryGetProperty("added_tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var token in tokens.EnumerateArray())
        {
            bool Flag(string name) => token.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
            result.Add(new HfAddedToken(token.GetProperty("id").GetInt32(), token.GetProperty("content").GetString()!,
                Flag("special"), Flag("single_word"), Flag("lstrip"), Flag("rstrip"), Flag("normalized")));
        }

        return result;
    }

    private static bool ReadNormalizer(JsonElement normalizer, string path)
    {
        if (normalizer.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return false;
        }

        string type = normalizer.GetProperty("type").GetString()!;
        return type switch
        {
            "NFC" => true,
            "Sequence" => normalizer.GetProperty("normalizers").EnumerateArray().Aggregate(false, (nfc, n) => ReadNormalizer(n, path) | nfc),
            _ => throw Unsupported(path, $"a {type} normalizer"),
        };
    }

    private static List<HfSplitRule> ReadPreTokenizer(JsonElement pre, string path)
    {
        var rules = new List<HfSplitRule>();
        if (pre.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return rules;
        }

        string type = pre.GetProperty("type").GetString()!;
        switch (type)
        {
            case "Sequence":
                foreach (var inner in pre.GetProperty("pretokenizers").EnumerateArray())
                {
                    rules.AddRange(ReadPreTokenizer(inner, path));
                }

                break;
            case "Split":
                string behavior = pre.TryGetProperty("behavior", out var b) ? b.GetString()! : "Isolated";
                if (behavior is not ("Isolated" or "Removed") || (pre.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True))
                {
                    throw Unsupported(path, $"a Split pre-tokenizer with behavior '{behavior}' or invert");
                }

                var pattern = pre.GetProperty("pattern");
                string regex = pattern.TryGetProperty("Regex", out var r) ? r.GetString()! : Regex.Escape(pattern.GetProperty("String").GetString()!);
                rules.Add(new HfSplitRule(Compile(regex, path), behavior == "Removed", AddPrefixSpace: false));
                break;
            case "ByteLevel":
                bool useRegex = !pre.TryGetProperty("use_regex", out var u) || u.ValueKind == JsonValueKind.True;
                bool prefixSpace = pre.TryGetProperty("add_prefix_space", out var a) && a.ValueKind == JsonValueKind.True;
                if (useRegex || prefixSpace)
                {
                    rules.Add(new HfSplitRule(useRegex ? Compile(Gpt2Pattern, path) : Compile("(?!)", path), false, prefixSpace));
                }

                break;
            default:
                throw Unsupported(path, $"a {type} pre-tokenizer");
        }

        return rules;
    }

    private static Regex Compile(string pattern, string path)
    {
        try
        {
            // Oniguruma and .NET agree on the constructs these checkpoints use (\p{L}, \p{N}, \s, (?i:...),
            // lookahead); code points outside the BMP are handled by HfTokenizer's BMP stand-ins.
            return new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw Unsupported(path, $"a pre-tokenizer pattern .NET cannot compile ({e.Message}): {pattern}");
        }
    }

    private static (int[] Prefix, int[] Suffix) ReadPostProcessor(JsonElement root, string path, out List<string> tokens)
    {
        tokens = [];
        if (!root.TryGetProperty("post_processor", out var processor) || processor.ValueKind != JsonValueKind.Object)
        {
            return ([], []);
        }

        var template = FindTemplate(processor, path);
        if (template.ValueKind != JsonValueKind.Object)
        {
            return ([], []);
        }

        var specials = template.GetProperty("special_tokens");
        List<int> prefix = [], suffix = [];
        bool afterSequence = false;
        foreach (var piece in template.GetProperty("single").EnumerateArray())
        {
            if (piece.TryGetProperty("Sequence", out _))
            {
                afterSequence = true;
                continue;
            }

            string id = piece.GetProperty("SpecialToken").GetProperty("id").GetString()!;
            var ids = specials.TryGetProperty(id, out var s) ? s.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()) :
                throw new CorruptCheckpointException($"'{path}' post-processor names special token '{id}' without its ids. Re-download the checkpoint's tokenizer files.");
            (afterSequence ? suffix : prefix).AddRange(ids);
            tokens.Add(id);
        }

        return (prefix.ToArray(), suffix.ToArray());
    }

    private static JsonElement FindTemplate(JsonElement processor, string path)
    {
        string type = processor.GetProperty("type").GetString()!;
        switch (type)
        {
            case "TemplateProcessing":
                return processor;
            case "ByteLevel":
                return default; // only moves offsets; ids are unchanged
            case "Sequence":
                var found = default(JsonElement);
                foreach (var inner in processor.GetProperty("processors").EnumerateArray())
                {
                    var template = FindTemplate(inner, path);
                    found = template.ValueKind == JsonValueKind.Object ? template : found;
                }

                return found;
            default:
                throw Unsupported(path, $"a {type} post-processor");
        }
    }

    private static JsonElement ReadConfig(string? path)
    {
        if (path is null || !File.Exists(path))
        {
            return default;
        }

        using var doc = ParseJson(path);
        return doc.RootElement.Clone();
    }

    internal static string? TokenString(JsonElement config, string name)
    {
        if (config.ValueKind != JsonValueKind.Object || !config.TryGetProperty(name, out var value))
        {
            return null;
        }

        // Either "<|im_end|>" or an AddedToken object {"__type": "AddedToken", "content": "<|im_end|>", ...}.
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var c) => c.GetString(),
            _ => null,
        };
    }

    internal static string? ReadChatTemplate(JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object || !config.TryGetProperty("chat_template", out var template))
        {
            return null;
        }

        if (template.ValueKind == JsonValueKind.String)
        {
            return template.GetString();
        }

        // A list of named templates: transformers uses the one named "default".
        return template.ValueKind == JsonValueKind.Array
            ? template.EnumerateArray().Where(t => t.GetProperty("name").GetString() == "default").Select(t => t.GetProperty("template").GetString()).FirstOrDefault()
            : null;
    }
}

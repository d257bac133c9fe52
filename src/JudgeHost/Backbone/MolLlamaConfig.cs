using System.Text.Json;
using JudgeHost.Abstractions;

namespace JudgeHost.Backbone;

/// <summary>
/// A Mol-LLaMA checkpoint's language side (Flex-Judge <c>example/utils/configuration_mol_llama.py</c>, JUDGE_PROTOCOL
/// §6.3): <c>config.json</c> has <c>"model_type": "mol_llama"</c> and <c>llm_config</c> = <c>{llm_model,
/// lora_config: {r, lora_alpha, lora_dropout}}</c>; the Llama-3.1 decoder lives in the weights under
/// <c>llm.base_model.model.</c> (peft-wrapped, LoRA on the seven projections), with <c>[PAD]</c> and <c>&lt;mol&gt;</c>
/// as two extra vocabulary rows (key names: <see cref="MolLlamaCheckpointKeys"/>). The reference gets the Llama architecture (and any base weight the file lacks) from
/// <c>llm_model</c>, a hub id; here it comes from <c>config.json</c>'s <c>text_config</c> (what <c>tools
/// import-judge</c> writes) or else from <c>llm_model</c> as a local directory (absolute or relative to the checkpoint).
/// LoRA settings: a peft <c>adapter_config.json</c> beside <c>config.json</c> when there is one, else
/// <c>llm_config.lora_config</c> with the reference's seven target projections.
/// </summary>
public sealed record MolLlamaConfig
{
    public const string ModelType = "mol_llama";

    /// <summary>The molecule placeholder token (the last vocabulary row).</summary>
    public const string MolToken = "<mol>";

    /// <summary>The padding token the reference adds before <c>&lt;mol&gt;</c>.</summary>
    public const string PadToken = "[PAD]";

    /// <summary>Llama-3's end-of-turn token, the reference's second terminator.</summary>
    public const string EndOfTurnToken = "<|eot_id|>";

    /// <summary>Checkpoint prefixes that belong to the molecule plugin: the encoder and the projector.</summary>
    public static IReadOnlyList<string> PluginPrefixes { get; } = [MolLlamaCheckpointKeys.EncoderPrefix, MolLlamaCheckpointKeys.ProjectorPrefix];

    public required string Directory { get; init; }

    /// <summary>The Llama decoder (model_type <c>mol_llama</c>, vocabulary including the two extra rows).</summary>
    public required DecoderConfig Decoder { get; init; }

    public required LoraSettings Lora { get; init; }

    /// <summary>Where the LoRA settings came from (<c>adapter_config.json</c> or <c>config.json llm_config.lora_config</c>).</summary>
    public required string LoraSource { get; init; }

    /// <summary><c>llm_config.llm_model</c> as written (the base model the reference loads).</summary>
    public string? LlmModel { get; init; }

    /// <summary><c>llm_model</c> resolved to a local model directory, or null (then every decoder weight must be in this checkpoint).</summary>
    public string? BaseDirectory { get; init; }

    /// <summary><c>qformer_config.num_query_tokens</c> (8): embedding rows per molecule.</summary>
    public int NumQueryTokens { get; init; } = 8;

    public static bool IsMolLlama(string directory) =>
        File.Exists(Path.Combine(directory, "config.json"))
        && ModelConfigFile.Read(directory) is var root
        && root.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == ModelType;

    public static MolLlamaConfig Load(string directory)
    {
        var root = ModelConfigFile.Read(directory);
        string type = ModelConfigFile.ModelType(root, directory);
        if (type != ModelType)
        {
            throw new CorruptCheckpointException($"config.json in '{directory}' has model_type '{type}', not '{ModelType}'.");
        }

        var llmConfig = root.TryGetProperty("llm_config", out var lc) && lc.ValueKind == JsonValueKind.Object ? lc : default;
        string? llmModel = llmConfig.ValueKind == JsonValueKind.Object && llmConfig.TryGetProperty("llm_model", out var lm) && lm.ValueKind == JsonValueKind.String
            ? lm.GetString()
            : null;
        string? baseDirectory = ResolveBase(directory, llmModel);

        JsonElement text;
        string textSource;
        if (root.TryGetProperty("text_config", out var tc) && tc.ValueKind == JsonValueKind.Object)
        {
            text = tc;
            textSource = $"config.json text_config in '{directory}'";
        }
        else if (baseDirectory is not null)
        {
            text = ModelConfigFile.Read(baseDirectory);
            textSource = $"config.json of llm_model '{baseDirectory}'";
        }
        else
        {
            throw new JudgeHostException(
                $"The Mol-LLaMA checkpoint in '{directory}' names its Llama as llm_config.llm_model '{llmModel ?? "(none)"}', which is not a local directory, and its config.json has no text_config. "
                + "Download that model and set llm_model to its path (absolute or relative to the checkpoint), or build a self-contained judge with 'judgehost tools import-judge'.");
        }

        string textType = text.TryGetProperty("model_type", out var tt) && tt.ValueKind == JsonValueKind.String ? tt.GetString()! : "llama";
        if (textType != "llama")
        {
            throw new CorruptCheckpointException($"The Mol-LLaMA language model ({textSource}) has model_type '{textType}'; only Llama (Llama-3 chat format) is supported. Mol-LLaMA's Llama-2 variant is not.");
        }

        var decoder = text.Deserialize<DecoderConfig>() ?? throw new CorruptCheckpointException($"The Mol-LLaMA language model config ({textSource}) is empty.");
        decoder = decoder with { ModelType = ModelType, VocabSize = VocabularyRows(directory, baseDirectory, decoder.VocabSize) };
        decoder.Validate(directory);

        string adapterPath = Path.Combine(directory, "adapter_config.json");
        LoraSettings lora;
        string loraSource;
        if (File.Exists(adapterPath))
        {
            lora = LoraSettings.ReadAdapterConfig(adapterPath);
            loraSource = adapterPath;
        }
        else
        {
            var lcfg = llmConfig.ValueKind == JsonValueKind.Object && llmConfig.TryGetProperty("lora_config", out var l) && l.ValueKind == JsonValueKind.Object ? l : default;
            int r = lcfg.ValueKind == JsonValueKind.Object && lcfg.TryGetProperty("r", out var rv) && rv.TryGetInt32(out int ri) ? ri : 8;
            double alpha = lcfg.ValueKind == JsonValueKind.Object && lcfg.TryGetProperty("lora_alpha", out var av) && av.TryGetDouble(out double ad) ? ad : 32;
            if (r <= 0)
            {
                throw new CorruptCheckpointException($"config.json in '{directory}' has llm_config.lora_config.r = {r}; the rank must be positive.");
            }

            lora = new LoraSettings { R = r, Alpha = alpha, TargetModules = MolLlamaCheckpointKeys.LoraTargets };
            loraSource = $"config.json llm_config.lora_config in '{directory}' (reference defaults r 8, alpha 32 where absent)";
        }

        int queries = root.TryGetProperty("qformer_config", out var q) && q.ValueKind == JsonValueKind.Object
            && q.TryGetProperty("num_query_tokens", out var n) && n.TryGetInt32(out int nq) ? nq : 8;
        return new MolLlamaConfig
        {
            Directory = directory,
            Decoder = decoder,
            Lora = lora,
            LoraSource = loraSource,
            LlmModel = llmModel,
            BaseDirectory = baseDirectory,
            NumQueryTokens = queries,
        };
    }

    /// <summary>The reference's terminators: the tokenizer's eos and <c>&lt;|eot_id|&gt;</c>.</summary>
    public static int[] Terminators(HfTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var ids = new List<int>();
        if (tokenizer.EosTokenId is { } eos)
        {
            ids.Add(eos);
        }

        if (tokenizer.TokenToId(EndOfTurnToken) is { } eot && !ids.Contains(eot))
        {
            ids.Add(eot);
        }

        return ids.Count > 0
            ? [.. ids]
            : throw new JudgeHostException("The Mol-LLaMA tokenizer names no eos token and has no <|eot_id|>; generation could never stop. Use the checkpoint's own tokenizer files.");
    }

    // The reference resizes the decoder to len(tokenizer): the checkpoint's embedding rows when it has them, else the
    // tokenizer beside it, else the Llama config's own vocabulary.
    private static int VocabularyRows(string directory, string? baseDirectory, int configured)
    {
        using (var files = CheckpointFiles.Open(directory))
        {
            string embed = MolLlamaCheckpointKeys.Llm("model.embed_tokens.weight");
            if (files.Contains(embed))
            {
                return (int)files.GetShape(embed)[0];
            }
        }

        if (File.Exists(Path.Combine(directory, "tokenizer.json")))
        {
            return HfTokenizer.Load(directory).VocabSize;
        }

        return configured > 0 ? configured : throw new CorruptCheckpointException($"Cannot tell the vocabulary size of the Mol-LLaMA checkpoint in '{directory}' (no embed_tokens, no tokenizer.json, no vocab_size{(baseDirectory is null ? "" : $" in '{baseDirectory}'")}).");
    }

    private static string? ResolveBase(string directory, string? llmModel)
    {
        if (string.IsNullOrWhiteSpace(llmModel))
        {
            return null;
        }

        string path = Path.IsPathRooted(llmModel) ? llmModel : Path.Combine(directory, llmModel);
        return File.Exists(Path.Combine(path, "config.json")) ? Path.GetFullPath(path) : null;
    }
}

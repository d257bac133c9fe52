using System.Text.Json;
using System.Text.Json.Serialization;
using JudgeHost.Abstractions;

namespace JudgeHost.Backbone;

/// <summary>RoPE scaling block of <c>config.json</c> (<c>rope_scaling</c>).</summary>
public sealed record RopeScaling
{
    [JsonPropertyName("rope_type")]
    public string? RopeType { get; init; }

    /// <summary>Older configs spell <c>rope_type</c> as <c>type</c>.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonPropertyName("factor")]
    public double Factor { get; init; } = 1.0;

    [JsonPropertyName("low_freq_factor")]
    public double LowFreqFactor { get; init; } = 1.0;

    [JsonPropertyName("high_freq_factor")]
    public double HighFreqFactor { get; init; } = 4.0;

    [JsonPropertyName("original_max_position_embeddings")]
    public int OriginalMaxPositionEmbeddings { get; init; } = 8192;

    [JsonPropertyName("mrope_section")]
    public int[]? MropeSection { get; init; }

    public string Kind => RopeType ?? Type ?? "default";
}

/// <summary>
/// The <c>config.json</c> keys a Qwen2 or Llama decoder consumes (MODEL_SPEC §1.1, §2). Property names are the
/// config keys. Qwen2 always has q/k/v biases; Llama has them only when <c>attention_bias</c> is true.
/// </summary>
public sealed record DecoderConfig
{
    [JsonPropertyName("model_type")]
    public string ModelType { get; init; } = "";

    [JsonPropertyName("vocab_size")]
    public int VocabSize { get; init; }

    [JsonPropertyName("hidden_size")]
    public int HiddenSize { get; init; }

    [JsonPropertyName("intermediate_size")]
    public int IntermediateSize { get; init; }

    [JsonPropertyName("num_hidden_layers")]
    public int NumHiddenLayers { get; init; }

    [JsonPropertyName("num_attention_heads")]
    public int NumAttentionHeads { get; init; }

    [JsonPropertyName("num_key_value_heads")]
    public int? NumKeyValueHeads { get; init; }

    [JsonPropertyName("head_dim")]
    public int? HeadDimOverride { get; init; }

    [JsonPropertyName("hidden_act")]
    public string HiddenAct { get; init; } = "silu";

    [JsonPropertyName("rms_norm_eps")]
    public double RmsNormEps { get; init; } = 1e-6;

    [JsonPropertyName("rope_theta")]
    public double RopeTheta { get; init; } = 10000.0;

    [JsonPropertyName("rope_scaling")]
    public RopeScaling? RopeScaling { get; init; }

    [JsonPropertyName("max_position_embeddings")]
    public int MaxPositionEmbeddings { get; init; } = 32768;

    [JsonPropertyName("tie_word_embeddings")]
    public bool TieWordEmbeddings { get; init; }

    [JsonPropertyName("attention_bias")]
    public bool AttentionBias { get; init; }

    [JsonPropertyName("mlp_bias")]
    public bool MlpBias { get; init; }

    [JsonPropertyName("use_sliding_window")]
    public bool UseSlidingWindow { get; init; }

    [JsonPropertyName("bos_token_id")]
    public JsonElement? BosTokenId { get; init; }

    [JsonPropertyName("eos_token_id")]
    public JsonElement? EosTokenId { get; init; }

    public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;

    public int HeadDim => HeadDimOverride ?? (HiddenSize / NumAttentionHeads);

    /// <summary>q/k/v projections carry a bias: always for Qwen2, when <c>attention_bias</c> for Llama.</summary>
    public bool QkvBias => ModelType is "qwen2" or "qwen2_vl" or "qwen2_5_vl" or "qwen2_5_omni" || AttentionBias;

    /// <summary>o_proj carries a bias only for Llama with <c>attention_bias</c>.</summary>
    public bool OutputBias => (ModelType is "llama" or MolLlamaConfig.ModelType) && AttentionBias;

    public static readonly string[] SupportedModelTypes = ["qwen2", "llama", "qwen2_vl", "qwen2_5_vl", "qwen2_5_omni", MolLlamaConfig.ModelType];

    /// <summary>
    /// Prefix of the decoder's tensors in the checkpoint: <c>thinker.</c> for Qwen2.5-Omni (<c>thinker.model.*</c>,
    /// <c>thinker.lm_head.weight</c>), empty otherwise.
    /// </summary>
    public string WeightPrefix => ModelType == "qwen2_5_omni" ? "thinker." : "";

    /// <summary>Checkpoint prefixes that belong to modality plugins, not to the decoder (loaded through their weight source).</summary>
    public IReadOnlyList<string> PluginPrefixes => ModelType switch
    {
        "qwen2_vl" or "qwen2_5_vl" => ["visual.", "model.visual."],
        // The talker and token2wav (speech output) are not run; the thinker's towers belong to plugins.
        "qwen2_5_omni" => ["thinker.audio_tower.", "thinker.visual.", "talker.", "token2wav."],
        MolLlamaConfig.ModelType => MolLlamaConfig.PluginPrefixes,
        _ => [],
    };

    /// <summary>Vision placeholder token ids (Qwen2-VL family), from config.json.</summary>
    [JsonPropertyName("image_token_id")]
    public int? ImageTokenId { get; init; }

    [JsonPropertyName("video_token_id")]
    public int? VideoTokenId { get; init; }

    [JsonPropertyName("vision_start_token_id")]
    public int? VisionStartTokenId { get; init; }

    [JsonPropertyName("vision_end_token_id")]
    public int? VisionEndTokenId { get; init; }

    /// <summary>Qwen2.5-Omni <c>thinker_config.audio_token_index</c> (<c>&lt;|AUDIO|&gt;</c>).</summary>
    [JsonPropertyName("audio_token_index")]
    public int? AudioTokenId { get; init; }

    /// <summary>Qwen2.5-Omni <c>thinker_config.audio_start_token_id</c> (<c>&lt;|audio_bos|&gt;</c>).</summary>
    [JsonPropertyName("audio_start_token_id")]
    public int? AudioStartTokenId { get; init; }

    /// <summary>Qwen2.5-Omni <c>thinker_config.audio_end_token_id</c> (<c>&lt;|audio_eos|&gt;</c>).</summary>
    [JsonPropertyName("audio_end_token_id")]
    public int? AudioEndTokenId { get; init; }

    public static DecoderConfig Load(string directory)
    {
        var root = ModelConfigFile.Read(directory);
        string type = ModelConfigFile.ModelType(root, directory);
        if (!SupportedModelTypes.Contains(type))
        {
            throw new JudgeHostException($"config.json in '{directory}' has model_type '{type}'; the text backbone runs {string.Join(", ", SupportedModelTypes)}.");
        }

        if (type == "qwen2_5_omni")
        {
            return LoadOmni(root, directory);
        }

        // Mol-LLaMA: the Llama lives in text_config (or llm_config.llm_model), the weights under peft's prefix.
        if (type == MolLlamaConfig.ModelType)
        {
            return MolLlamaConfig.Load(directory).Decoder;
        }

        // Newer transformers nest the language model's keys in text_config; older ones keep them at the top.
        bool nestedText = root.TryGetProperty("text_config", out var textConfig) && textConfig.ValueKind == JsonValueKind.Object && !root.TryGetProperty("hidden_size", out _);
        var source = nestedText ? textConfig : root;
        var config = (source.Deserialize<DecoderConfig>() ?? throw new CorruptCheckpointException($"config.json in '{directory}' is empty.")) with { ModelType = type };
        if (nestedText && config.ImageTokenId is null)
        {
            var ids = root.Deserialize<DecoderConfig>()!;
            config = config with
            {
                ImageTokenId = ids.ImageTokenId, VideoTokenId = ids.VideoTokenId, VisionStartTokenId = ids.VisionStartTokenId, VisionEndTokenId = ids.VisionEndTokenId,
            };
        }

        config.Validate(directory);
        return config;
    }

    // Qwen2.5-Omni: the decoder is thinker_config.text_config; the media token ids sit in thinker_config (image and
    // video as *_token_index).
    private static DecoderConfig LoadOmni(JsonElement root, string directory)
    {
        if (!root.TryGetProperty("thinker_config", out var thinker) || thinker.ValueKind != JsonValueKind.Object
            || !thinker.TryGetProperty("text_config", out var text) || text.ValueKind != JsonValueKind.Object)
        {
            throw new CorruptCheckpointException($"config.json in '{directory}' is a Qwen2.5-Omni config without thinker_config.text_config. Re-download the checkpoint.");
        }

        int? Id(string key) => thinker.TryGetProperty(key, out var e) && e.TryGetInt32(out int v) ? v : null;
        var ids = thinker.Deserialize<DecoderConfig>()!;
        var config = (text.Deserialize<DecoderConfig>() ?? throw new CorruptCheckpointException($"config.json in '{directory}' has an empty text_config.")) with
        {
            ModelType = "qwen2_5_omni",
            BosTokenId = ids.BosTokenId,
            EosTokenId = ids.EosTokenId,
            ImageTokenId = Id("image_token_index"),
            VideoTokenId = Id("video_token_index"),
            VisionStartTokenId = ids.VisionStartTokenId,
            VisionEndTokenId = ids.VisionEndTokenId,
            AudioTokenId = ids.AudioTokenId,
            AudioStartTokenId = ids.AudioStartTokenId,
            AudioEndTokenId = ids.AudioEndTokenId,
        };
        config.Validate(directory);
        return config;
    }

    public void Validate(string directory)
    {
        var problems = new List<string>();
        if (VocabSize <= 0 || HiddenSize <= 0 || IntermediateSize <= 0 || NumHiddenLayers <= 0 || NumAttentionHeads <= 0)
        {
            problems.Add("vocab_size, hidden_size, intermediate_size, num_hidden_layers and num_attention_heads must be positive");
        }
        else if (NumAttentionHeads % KeyValueHeads != 0)
        {
            problems.Add($"num_attention_heads {NumAttentionHeads} is not a multiple of num_key_value_heads {KeyValueHeads}");
        }
        else if (HeadDim % 2 != 0)
        {
            problems.Add($"head_dim {HeadDim} is odd; RoPE needs an even head dimension");
        }

        if (HiddenAct != "silu")
        {
            problems.Add($"hidden_act '{HiddenAct}' is not supported (silu only)");
        }

        if (UseSlidingWindow)
        {
            problems.Add("use_sliding_window is true; sliding-window attention is not implemented (no released Qwen2.5 checkpoint uses it)");
        }

        if (RopeScaling is { } rs && rs.Kind is not ("default" or "llama3" or "linear" or "mrope"))
        {
            problems.Add($"rope_scaling type '{rs.Kind}' is not supported (default, linear, llama3, mrope)");
        }

        if (problems.Count > 0)
        {
            throw new CorruptCheckpointException($"config.json in '{directory}' cannot be run: {string.Join("; ", problems)}.");
        }
    }

    /// <summary>End-of-sequence ids from a JSON number or array (config or generation_config).</summary>
    public static int[] ReadIds(JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.Number } e => [e.GetInt32()],
        { ValueKind: JsonValueKind.Array } e => e.EnumerateArray().Select(x => x.GetInt32()).ToArray(),
        _ => [],
    };
}

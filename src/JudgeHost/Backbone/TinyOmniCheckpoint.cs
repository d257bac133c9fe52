using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// A tiny random Qwen2.5-Omni thinker in the released layout (<c>Qwen/Qwen2.5-Omni-*</c>): config.json with
/// <c>model_type qwen2_5_omni</c> and <c>thinker_config</c> {<c>audio_config</c>, <c>vision_config</c>,
/// <c>text_config</c> with M-RoPE sections, token ids, <c>position_id_per_seconds</c>}; tensors under
/// <c>thinker.model.*</c>, <c>thinker.lm_head.weight</c>, <c>thinker.audio_tower.*</c> (k_proj without bias, the unused
/// <c>audio_bos_eos_token</c>) and <c>thinker.visual.*</c> (split <c>attn.q/k/v</c>); the merged Whisper + Qwen2-VL
/// preprocessor_config.json; and a Qwen tokenizer turned into the Omni one: the Qwen2.5 special tokens at ids
/// 151646-151656 renamed as Omni names them (<c>&lt;|AUDIO|&gt;</c>, <c>&lt;|audio_bos|&gt;</c>, <c>&lt;|audio_eos|&gt;</c>,
/// <c>&lt;|vision_bos|&gt;</c>, <c>&lt;|vision_eos|&gt;</c>, <c>&lt;|IMAGE|&gt;</c>, <c>&lt;|VIDEO|&gt;</c>) and the Omni chat
/// template. No talker or token2wav (speech output is not run).
/// </summary>
public static class TinyOmniCheckpoint
{
    /// <summary>Qwen2.5 special-token names and the Omni tokenizer's names for the same ids.</summary>
    public static IReadOnlyList<(string Qwen, string Omni)> TokenRenames { get; } =
    [
        ("<|object_ref_start|>", "<|AUDIO|>"), ("<|object_ref_end|>", "<|audio_bos|>"), ("<|box_start|>", "<|audio_eos|>"),
        ("<|vision_start|>", "<|vision_bos|>"), ("<|vision_end|>", "<|vision_eos|>"), ("<|image_pad|>", "<|IMAGE|>"), ("<|video_pad|>", "<|VIDEO|>"),
    ];

    /// <summary>The chat template of the released Qwen2.5-Omni tokenizer_config.json (ChatML, default system "You are a helpful assistant.").</summary>
    public const string ChatTemplateText =
        "{% set audio_count = namespace(value=0) %}{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
        + "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
        + "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
        + "{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
        + "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_bos|><|IMAGE|><|vision_eos|>"
        + "{% elif content['type'] == 'audio' or 'audio' in content or 'audio_url' in content %}{% set audio_count.value = audio_count.value + 1 %}"
        + "{% if add_audio_id %}Audio {{ audio_count.value }}: {% endif %}<|audio_bos|><|AUDIO|><|audio_eos|>"
        + "{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}"
        + "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_bos|><|VIDEO|><|vision_eos|>"
        + "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
        + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    private const int AudioModel = 32, AudioHeads = 2, AudioFfn = 64, AudioLayers = 2, MelBins = 128;
    private const int VisionHidden = 32, VisionInter = 64, VisionDepth = 2, Patch = 14, Temporal = 2, Merge = 2;

    /// <summary>Writes the checkpoint; <paramref name="tokenizerDirectory"/> holds a Qwen (or Omni) tokenizer.json + tokenizer_config.json.</summary>
    public static void Write(string directory, string tokenizerDirectory, long seed = 0)
    {
        var shape = new TinyCheckpoint.Shape(Hidden: 64, Intermediate: 128, Layers: 2, Heads: 4, KvHeads: 2);
        TinyCheckpoint.WriteWithTokenizer(directory, "qwen2", shape, tokenizerDirectory, tied: false, seed: seed);
        OmniTokenizer(directory);
        var tokenizer = HfTokenizer.Load(directory);
        int Id(string token) => tokenizer.AddedTokens.TryGetValue(token, out int id) ? id
            : throw new JudgeHostException($"The tokenizer in '{tokenizerDirectory}' lacks {token}; a Qwen2.5-Omni checkpoint needs the Qwen special tokens (ids 151643-151656).");

        string configPath = Path.Combine(directory, "config.json");
        var text = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        int vocab = text["vocab_size"]!.GetValue<int>();
        int eos = Id("<|im_end|>"), pad = Id("<|endoftext|>");
        text.Remove("architectures");
        text.Remove("bos_token_id");
        text.Remove("eos_token_id");
        text["model_type"] = "qwen2_5_omni_text";
        text["rope_scaling"] = new JsonObject { ["type"] = "mrope", ["mrope_section"] = new JsonArray(2, 3, 3) };
        var thinker = new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen2_5OmniThinkerForConditionalGeneration"),
            ["model_type"] = "qwen2_5_omni_thinker",
            ["audio_config"] = new JsonObject
            {
                ["model_type"] = "qwen2_5_omni_audio_encoder", ["num_mel_bins"] = MelBins, ["d_model"] = AudioModel, ["encoder_layers"] = AudioLayers,
                ["encoder_attention_heads"] = AudioHeads, ["encoder_ffn_dim"] = AudioFfn, ["activation_function"] = "gelu", ["scale_embedding"] = false,
                ["max_source_positions"] = 1500, ["n_window"] = 100, ["output_dim"] = shape.Hidden, ["dropout"] = 0.0, ["attention_dropout"] = 0.0,
                ["activation_dropout"] = 0.0, ["encoder_layerdrop"] = 0.0, ["init_std"] = 0.02,
            },
            ["vision_config"] = new JsonObject
            {
                ["model_type"] = "qwen2_5_omni_vision_encoder", ["depth"] = VisionDepth, ["hidden_size"] = VisionHidden, ["embed_dim"] = VisionHidden,
                ["intermediate_size"] = VisionInter, ["num_heads"] = 2, ["patch_size"] = Patch, ["spatial_patch_size"] = Patch, ["temporal_patch_size"] = Temporal,
                ["spatial_merge_size"] = Merge, ["window_size"] = 112, ["fullatt_block_indexes"] = new JsonArray(1), ["out_hidden_size"] = shape.Hidden,
                ["hidden_act"] = "silu", ["in_channels"] = 3, ["in_chans"] = 3, ["tokens_per_second"] = 25,
            },
            ["text_config"] = text,
            ["audio_token_index"] = Id("<|AUDIO|>"), ["image_token_index"] = Id("<|IMAGE|>"), ["video_token_index"] = Id("<|VIDEO|>"),
            ["audio_start_token_id"] = Id("<|audio_bos|>"), ["audio_end_token_id"] = Id("<|audio_eos|>"),
            ["vision_start_token_id"] = Id("<|vision_bos|>"), ["vision_end_token_id"] = Id("<|vision_eos|>"),
            ["bos_token_id"] = pad, ["eos_token_id"] = eos, ["pad_token_id"] = pad,
            ["position_id_per_seconds"] = 25, ["seconds_per_chunk"] = 2, ["torch_dtype"] = "float32",
        };
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen2_5OmniModel"), ["model_type"] = "qwen2_5_omni", ["enable_audio_output"] = false,
            ["thinker_config"] = thinker, ["torch_dtype"] = "float32",
        };
        var options = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(configPath, config.ToJsonString(options));
        File.WriteAllText(Path.Combine(directory, "preprocessor_config.json"), new JsonObject
        {
            ["processor_class"] = "Qwen2_5OmniProcessor", ["feature_extractor_type"] = "WhisperFeatureExtractor", ["feature_size"] = MelBins,
            ["sampling_rate"] = 16000, ["hop_length"] = 160, ["n_fft"] = 400, ["chunk_length"] = 30, ["n_samples"] = 480000, ["nb_max_frames"] = 3000,
            ["padding_side"] = "right", ["padding_value"] = 0.0, ["return_attention_mask"] = true, ["dither"] = 0.0,
            ["image_processor_type"] = "Qwen2VLImageProcessor", ["min_pixels"] = 3136, ["max_pixels"] = 12845056, ["patch_size"] = Patch,
            ["temporal_patch_size"] = Temporal, ["merge_size"] = Merge, ["do_resize"] = true, ["do_rescale"] = true, ["do_normalize"] = true,
            ["rescale_factor"] = 1.0 / 255, ["resample"] = 3,
            ["image_mean"] = new JsonArray(0.48145466, 0.4578275, 0.40821073), ["image_std"] = new JsonArray(0.26862954, 0.26130258, 0.27577711),
        }.ToJsonString(options));
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), new JsonObject
        {
            ["bos_token_id"] = pad, ["eos_token_id"] = eos, ["pad_token_id"] = pad, ["do_sample"] = false,
        }.ToJsonString(options));
        WriteTensors(Path.Combine(directory, "model.safetensors"), shape.Hidden, vocab, seed);
    }

    // The decoder's tensors move under "thinker."; the towers' random tensors follow.
    private static void WriteTensors(string path, int hidden, int vocab, long seed)
    {
        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using (var text = SafeTensorsFile.Open(path))
        {
            tensors.AddRange(text.Entries.Select(e => new KeyValuePair<string, Tensor>("thinker." + e.Name, text.Load(e.Name))));
        }

        if (!tensors.Any(t => t.Key == "thinker.lm_head.weight" && t.Value.shape[0] == vocab))
        {
            throw new InvalidOperationException("The tiny decoder was written without an untied lm_head.");
        }

        var gen = manual_seed(seed + 1);
        void Add(string name, long[] dims, double std, double mean = 0) => tensors.Add(new(name, (randn(dims, generator: gen) * std) + mean));
        const string a = "thinker.audio_tower.";
        Add(a + "conv1.weight", [AudioModel, MelBins, 3], 0.05);
        Add(a + "conv1.bias", [AudioModel], 0.1);
        Add(a + "conv2.weight", [AudioModel, AudioModel, 3], 0.08);
        Add(a + "conv2.bias", [AudioModel], 0.1);
        for (int i = 0; i < AudioLayers; i++)
        {
            string p = $"{a}layers.{i}.";
            Add(p + "self_attn.k_proj.weight", [AudioModel, AudioModel], 0.15);
            foreach (string proj in new[] { "v_proj", "q_proj", "out_proj" })
            {
                Add(p + $"self_attn.{proj}.weight", [AudioModel, AudioModel], 0.15);
                Add(p + $"self_attn.{proj}.bias", [AudioModel], 0.1);
            }

            Add(p + "self_attn_layer_norm.weight", [AudioModel], 0.1, 1);
            Add(p + "self_attn_layer_norm.bias", [AudioModel], 0.1);
            Add(p + "fc1.weight", [AudioFfn, AudioModel], 0.15);
            Add(p + "fc1.bias", [AudioFfn], 0.1);
            Add(p + "fc2.weight", [AudioModel, AudioFfn], 0.1);
            Add(p + "fc2.bias", [AudioModel], 0.1);
            Add(p + "final_layer_norm.weight", [AudioModel], 0.1, 1);
            Add(p + "final_layer_norm.bias", [AudioModel], 0.1);
        }

        Add(a + "ln_post.weight", [AudioModel], 0.1, 1);
        Add(a + "ln_post.bias", [AudioModel], 0.1);
        Add(a + "proj.weight", [hidden, AudioModel], 0.15);
        Add(a + "proj.bias", [hidden], 0.1);
        Add(a + "audio_bos_eos_token.weight", [2, hidden], 0.5);

        const string v = "thinker.visual.";
        Add(v + "patch_embed.proj.weight", [VisionHidden, 3, Temporal, Patch, Patch], 0.05);
        for (int i = 0; i < VisionDepth; i++)
        {
            string p = $"{v}blocks.{i}.";
            Add(p + "norm1.weight", [VisionHidden], 0.1, 1);
            Add(p + "norm2.weight", [VisionHidden], 0.1, 1);
            foreach (string proj in new[] { "q", "k", "v", "proj" })
            {
                Add(p + $"attn.{proj}.weight", [VisionHidden, VisionHidden], 0.15);
                Add(p + $"attn.{proj}.bias", [VisionHidden], 0.1);
            }

            Add(p + "mlp.gate_proj.weight", [VisionInter, VisionHidden], 0.15);
            Add(p + "mlp.gate_proj.bias", [VisionInter], 0.1);
            Add(p + "mlp.up_proj.weight", [VisionInter, VisionHidden], 0.15);
            Add(p + "mlp.up_proj.bias", [VisionInter], 0.1);
            Add(p + "mlp.down_proj.weight", [VisionHidden, VisionInter], 0.15);
            Add(p + "mlp.down_proj.bias", [VisionHidden], 0.1);
        }

        int merged = VisionHidden * Merge * Merge;
        Add(v + "merger.ln_q.weight", [VisionHidden], 0.1, 1);
        Add(v + "merger.mlp.0.weight", [merged, merged], 0.1);
        Add(v + "merger.mlp.0.bias", [merged], 0.1);
        Add(v + "merger.mlp.2.weight", [hidden, merged], 0.1);
        Add(v + "merger.mlp.2.bias", [hidden], 0.1);
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    // The copied Qwen tokenizer files with the Omni names for ids 151646-151656 and the Omni chat template. A tokenizer
    // that already has the Omni names is left as it is.
    private static void OmniTokenizer(string directory)
    {
        string json = Path.Combine(directory, "tokenizer.json");
        string config = Path.Combine(directory, "tokenizer_config.json");
        string tokenizerText = File.ReadAllText(json);
        if (!tokenizerText.Contains("\"<|AUDIO|>\"", StringComparison.Ordinal))
        {
            foreach (var (qwen, omni) in TokenRenames)
            {
                if (!tokenizerText.Contains($"\"{qwen}\"", StringComparison.Ordinal))
                {
                    throw new JudgeHostException($"The tokenizer lacks {qwen}; a Qwen2.5-Omni checkpoint is made from a Qwen2.5 / Qwen3 tokenizer.");
                }

                tokenizerText = tokenizerText.Replace($"\"{qwen}\"", $"\"{omni}\"", StringComparison.Ordinal);
            }

            File.WriteAllText(json, tokenizerText);
        }

        if (File.Exists(config))
        {
            string configText = File.ReadAllText(config);
            foreach (var (qwen, omni) in TokenRenames)
            {
                configText = configText.Replace($"\"{qwen}\"", $"\"{omni}\"", StringComparison.Ordinal);
            }

            var node = JsonNode.Parse(configText)!.AsObject();
            node["chat_template"] = ChatTemplateText;
            File.WriteAllText(config, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
    }
}

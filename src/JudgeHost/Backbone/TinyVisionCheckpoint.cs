using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// Turns a tiny Qwen2 checkpoint written with a real Qwen tokenizer into a tiny Qwen2.5-VL one, in the released
/// (legacy) layout: model_type qwen2_5_vl, M-RoPE sections, a small vision_config, preprocessor_config.json and
/// random <c>visual.*</c> tensors with transformers' names and shapes. Vision token ids come from the tokenizer.
/// </summary>
public static class TinyVisionCheckpoint
{
    public static void Write(string directory, string tokenizerDirectory, long seed = 0)
    {
        var shape = new TinyCheckpoint.Shape(Hidden: 64, Intermediate: 128, Layers: 2, Heads: 4, KvHeads: 2);
        TinyCheckpoint.WriteWithTokenizer(directory, "qwen2", shape, tokenizerDirectory, tied: false, seed: seed);
        var tokenizer = HfTokenizer.Load(directory);
        int Id(string token) => tokenizer.TokenToId(token) ?? throw new JudgeHostException($"The tokenizer in '{tokenizerDirectory}' lacks {token}; a Qwen2.5-VL checkpoint needs the Qwen vision tokens.");

        const int visionHidden = 32, visionInter = 64, depth = 2, patch = 14, temporal = 2, merge = 2;
        string configPath = Path.Combine(directory, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["architectures"] = new JsonArray("Qwen2_5_VLForConditionalGeneration");
        config["model_type"] = "qwen2_5_vl";
        config["rope_scaling"] = new JsonObject { ["type"] = "mrope", ["mrope_section"] = new JsonArray(2, 3, 3) };
        config["vision_start_token_id"] = Id("<|vision_start|>");
        config["vision_end_token_id"] = Id("<|vision_end|>");
        config["image_token_id"] = Id("<|image_pad|>");
        config["video_token_id"] = Id("<|video_pad|>");
        config["vision_config"] = new JsonObject
        {
            ["depth"] = depth, ["hidden_size"] = visionHidden, ["intermediate_size"] = visionInter, ["num_heads"] = 2, ["patch_size"] = patch,
            ["temporal_patch_size"] = temporal, ["spatial_merge_size"] = merge, ["window_size"] = 112, ["fullatt_block_indexes"] = new JsonArray(1),
            ["out_hidden_size"] = shape.Hidden, ["hidden_act"] = "silu", ["in_chans"] = 3, ["tokens_per_second"] = 2,
        };
        var options = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(configPath, config.ToJsonString(options));
        File.WriteAllText(Path.Combine(directory, "preprocessor_config.json"), new JsonObject
        {
            ["image_processor_type"] = "Qwen2VLImageProcessor", ["min_pixels"] = 3136, ["max_pixels"] = 12845056, ["patch_size"] = patch,
            ["temporal_patch_size"] = temporal, ["merge_size"] = merge, ["do_resize"] = true, ["do_rescale"] = true, ["do_normalize"] = true,
            ["rescale_factor"] = 1.0 / 255, ["resample"] = 3,
            ["image_mean"] = new JsonArray(0.48145466, 0.4578275, 0.40821073), ["image_std"] = new JsonArray(0.26862954, 0.26130258, 0.27577711),
        }.ToJsonString(options));

        string weightsPath = Path.Combine(directory, "model.safetensors");
        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using (var text = SafeTensorsFile.Open(weightsPath))
        {
            tensors.AddRange(text.Entries.Select(e => new KeyValuePair<string, Tensor>(e.Name, text.Load(e.Name))));
        }

        var gen = manual_seed(seed + 1);
        void Add(string name, long[] dims, double std, double mean = 0) => tensors.Add(new(name, (randn(dims, generator: gen) * std) + mean));
        Add("visual.patch_embed.proj.weight", [visionHidden, 3, temporal, patch, patch], 0.05);
        for (int i = 0; i < depth; i++)
        {
            string p = $"visual.blocks.{i}.";
            Add(p + "norm1.weight", [visionHidden], 0.1, 1);
            Add(p + "norm2.weight", [visionHidden], 0.1, 1);
            Add(p + "attn.qkv.weight", [3 * visionHidden, visionHidden], 0.15);
            Add(p + "attn.qkv.bias", [3 * visionHidden], 0.1);
            Add(p + "attn.proj.weight", [visionHidden, visionHidden], 0.15);
            Add(p + "attn.proj.bias", [visionHidden], 0.1);
            Add(p + "mlp.gate_proj.weight", [visionInter, visionHidden], 0.15);
            Add(p + "mlp.gate_proj.bias", [visionInter], 0.1);
            Add(p + "mlp.up_proj.weight", [visionInter, visionHidden], 0.15);
            Add(p + "mlp.up_proj.bias", [visionInter], 0.1);
            Add(p + "mlp.down_proj.weight", [visionHidden, visionInter], 0.15);
            Add(p + "mlp.down_proj.bias", [visionHidden], 0.1);
        }

        int merged = visionHidden * merge * merge;
        Add("visual.merger.ln_q.weight", [visionHidden], 0.1, 1);
        Add("visual.merger.mlp.0.weight", [merged, merged], 0.1);
        Add("visual.merger.mlp.0.bias", [merged], 0.1);
        Add("visual.merger.mlp.2.weight", [shape.Hidden, merged], 0.1);
        Add("visual.merger.mlp.2.bias", [shape.Hidden], 0.1);
        SafeTensorsWriter.Write(weightsPath, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }
}

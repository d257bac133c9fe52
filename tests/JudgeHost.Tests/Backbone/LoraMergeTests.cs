using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>The LoRA merge maths (peft's get_delta_weight / merge), its settings and the strict bookkeeping of LoRA tensors.</summary>
[Collection(TorchCollection.Name)]
public sealed class LoraMergeTests
{
    [Fact]
    public void Merge_EqualsWPlusScaledBA_ComputedElementByElement()
    {
        var g = manual_seed(7);
        using var w = randn([5, 6], generator: g);
        using var a = randn([3, 6], generator: g);
        using var b = randn([5, 3], generator: g);
        const double Scaling = 32.0 / 3.0;

        using var merged = LoraMerge.Merge(w, a, b, Scaling);

        // Direct: W[o, i] + s * sum_k B[o, k] * A[k, i], in double.
        float[] wv = w.data<float>().ToArray(), av = a.data<float>().ToArray(), bv = b.data<float>().ToArray(), mv = merged.data<float>().ToArray();
        for (int o = 0; o < 5; o++)
        {
            for (int i = 0; i < 6; i++)
            {
                double sum = 0;
                for (int k = 0; k < 3; k++)
                {
                    sum += (double)bv[(o * 3) + k] * av[(k * 6) + i];
                }

                double expected = wv[(o * 6) + i] + (Scaling * sum);
                Assert.True(Math.Abs(mv[(o * 6) + i] - expected) < 1e-5, $"[{o},{i}]: {mv[(o * 6) + i]} vs {expected}");
            }
        }
    }

    [Fact]
    public void Merge_Bf16Weight_IsTheFloat32SumRoundedOnce()
    {
        var g = manual_seed(11);
        using var w = randn([64, 32], generator: g).to(ScalarType.BFloat16);
        using var a = (randn([4, 32], generator: g) * 0.01).to(ScalarType.BFloat16);
        using var b = (randn([64, 4], generator: g) * 0.01).to(ScalarType.BFloat16);

        using var merged = LoraMerge.Merge(w, a, b, 2.0);
        using var expected = (w.to(ScalarType.Float32) + (b.to(ScalarType.Float32).matmul(a.to(ScalarType.Float32)) * 2.0)).to(ScalarType.BFloat16);
        // peft on bf16 adds a bf16-rounded delta to the bf16 weight: two roundings, which this must not do.
        using var twoRoundings = w + (b.to(ScalarType.Float32).matmul(a.to(ScalarType.Float32)) * 2.0).to(ScalarType.BFloat16);

        Assert.Equal(ScalarType.BFloat16, merged.dtype);
        Assert.True((merged == expected).all().item<bool>());
        Assert.False((merged == twoRoundings).all().item<bool>(), "the small update should round differently in one and two steps somewhere");
    }

    [Fact]
    public void MergeInto_UpdatesTheParameterInPlace()
    {
        using var w = zeros(2, 2);
        using var a = tensor(new float[] { 1, 2 }).view(1, 2);
        using var b = tensor(new float[] { 3, 4 }).view(2, 1);

        LoraMerge.MergeInto(w, a, b, 0.5);

        Assert.Equal(new float[] { 1.5f, 3, 2, 4 }, w.data<float>().ToArray());
    }

    [Fact]
    public void Delta_FanInFanOut_IsTransposed()
    {
        using var a = tensor(new float[] { 1, 2, 3 }).view(1, 3);     // [r=1, in=3]
        using var b = tensor(new float[] { 1, 10 }).view(2, 1);       // [out=2, r=1]

        using var delta = LoraMerge.Delta(a, b, 1.0, fanInFanOut: true);

        Assert.Equal(new long[] { 3, 2 }, delta.shape);
        Assert.Equal(new float[] { 1, 10, 2, 20, 3, 30 }, delta.data<float>().ToArray());
    }

    [Fact]
    public void Merge_FactorsThatDoNotChain_AreRefusedWithShapes()
    {
        using var w = zeros(4, 4);
        using var a = zeros(2, 4);
        using var b = zeros(4, 3);

        var e = Assert.Throws<ArgumentException>(() => LoraMerge.Merge(w, a, b, 1.0));

        Assert.Contains("[2, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[4, 3]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_ScalingFollowsPeft_PlainRsloraAndPatterns()
    {
        var settings = LoraSettings.FromPeftConfig(Json("""
            {"peft_type": "LORA", "r": 8, "lora_alpha": 32, "target_modules": ["q_proj", "v_proj"],
             "rank_pattern": {"layers.1.self_attn.q_proj": 4}, "alpha_pattern": {"v_proj": 8}}
            """), "test");

        Assert.Equal(4.0, settings.ScalingFor("model.layers.0.self_attn.q_proj"));            // 32 / 8
        Assert.Equal(8.0, settings.ScalingFor("model.layers.1.self_attn.q_proj"));            // 32 / 4 (rank pattern)
        Assert.Equal(1.0, settings.ScalingFor("model.layers.0.self_attn.v_proj"));            // 8 / 8 (alpha pattern)
        Assert.Equal(4, settings.RankFor("model.layers.1.self_attn.q_proj"));
        // rank_pattern keys match whole dotted components from the end: "layers.1..." must not match "layers.11...".
        Assert.Equal(8, settings.RankFor("model.layers.11.self_attn.q_proj"));

        var rs = LoraSettings.FromPeftConfig(Json("""{"r": 16, "lora_alpha": 32, "use_rslora": true}"""), "test");
        Assert.Equal(8.0, rs.ScalingFor("x.q_proj"), 12);                                      // 32 / sqrt(16)
    }

    [Fact]
    public void Settings_TargetsMatchAsPeftDoes()
    {
        var list = LoraSettings.FromPeftConfig(Json("""{"r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "mlp.up_proj"], "exclude_modules": ["layers.1.self_attn.q_proj"]}"""), "t");
        var regex = LoraSettings.FromPeftConfig(Json("""{"r": 8, "lora_alpha": 16, "target_modules": ".*\\.(q|v)_proj"}"""), "t");

        Assert.True(list.IsTarget("model.layers.0.self_attn.q_proj"));
        Assert.True(list.IsTarget("model.layers.0.mlp.up_proj"));
        Assert.False(list.IsTarget("model.layers.0.self_attn.k_proj"));
        Assert.False(list.IsTarget("model.layers.1.self_attn.q_proj"));                       // excluded
        Assert.False(list.IsTarget("model.layers.0.self_attn.xq_proj"));                      // suffix must be a whole component
        Assert.True(regex.IsTarget("model.layers.3.self_attn.v_proj"));
        Assert.False(regex.IsTarget("model.layers.3.self_attn.o_proj"));
    }

    [Theory]
    [InlineData("""{"r": 8, "lora_alpha": 16, "use_dora": true}""", "use_dora")]                  // DoRA adds a magnitude vector
    [InlineData("""{"r": 8, "lora_alpha": 16, "bias": "lora_only"}""", "bias 'lora_only'")]       // trained biases
    [InlineData("""{"r": 8, "lora_alpha": 16, "layers_to_transform": [0]}""", "layers_to_transform")] // layer selection
    [InlineData("""{"peft_type": "IA3"}""", "peft_type 'IA3'")]                                     // not LoRA at all
    public void Settings_WhatCannotBeMerged_IsRefusedByName(string json, string named)
    {
        var e = Assert.Throws<CorruptCheckpointException>(() => LoraSettings.FromPeftConfig(Json(json), "adapter_config.json"));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Index_PairsFactors_AndNamesEveryTensorItCannotMerge()
    {
        const string P = "llm.base_model.model.";
        string[] names =
        [
            P + "model.layers.0.self_attn.q_proj.base_layer.weight",
            P + "model.layers.0.self_attn.q_proj.lora_A.default.weight",
            P + "model.layers.0.self_attn.q_proj.lora_B.default.weight",
            P + "model.layers.0.self_attn.k_proj.lora_A.default.weight",           // no lora_B
            P + "model.layers.0.self_attn.v_proj.lora_A.other.weight",             // another adapter
            P + "model.layers.0.self_attn.v_proj.lora_B.other.weight",
            P + "model.layers.0.mlp.up_proj.lora_A.default.weight",
            P + "model.layers.0.mlp.up_proj.lora_B.default.weight",
            P + "model.embed_tokens.weight",
            "encoder.lora_like_name_outside_prefix.weight",
        ];

        var index = LoraTensorIndex.Scan(names, P);
        var taken = index.Take("model.layers.0.self_attn.q_proj");

        Assert.Equal(P + "model.layers.0.self_attn.q_proj.lora_B.default.weight", taken!.B);
        Assert.Null(index.Take("model.embed_tokens"));
        Assert.Equal(2, index.Modules.Count);
        Assert.Contains(index.Problems, p => p.Contains("k_proj.lora_A.default.weight (its lora_B is missing)", StringComparison.Ordinal));
        Assert.Equal(2, index.Problems.Count(p => p.Contains("v_proj.lora_", StringComparison.Ordinal) && p.Contains("adapter 'default'", StringComparison.Ordinal)));
        Assert.Equal([P + "model.layers.0.mlp.up_proj.lora_A.default.weight", P + "model.layers.0.mlp.up_proj.lora_B.default.weight"], index.Unused);
        Assert.DoesNotContain("encoder.lora_like_name_outside_prefix.weight", index.TensorNames);
    }

    private static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}

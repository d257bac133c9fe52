using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>Behaviour of the decoder, KV cache and generation on tiny random checkpoints made by the project.</summary>
[Collection(TorchCollection.Name)]
public sealed class GenerationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private CausalLM Tiny(string family, bool? tied = null, ScalarType dtype = ScalarType.Float32, long seed = 3)
    {
        string path = _dir.Combine($"{family}-{tied}-{seed}");
        if (!Directory.Exists(path))
        {
            TinyCheckpoint.Write(path, family, new TinyCheckpoint.Shape(), tied, seed);
        }

        return CheckpointLoader.Load(path, dtype, CPU).Model;
    }

    private static int[] Prompt(int length, int seed) => Enumerable.Range(0, length).Select(i => ((i * 37) + (seed * 11) + 5) % 250).ToArray();

    [Theory]
    [InlineData("qwen2")]   // q/k/v biases, tied head
    [InlineData("llama")]   // llama3 RoPE scaling, untied head
    public void IncrementalDecode_MatchesFullRecompute(string family)
    {
        using var model = Tiny(family);
        var generator = new TextGenerator(model);
        int[] prompt = Prompt(12, 1);
        var generated = generator.Generate([prompt], 20, SamplingOptions.Greedy, [])[0].Tokens;

        // Greedy tokens from the cache must be the argmax of a full forward over prompt + generated.
        int[] all = [.. prompt, .. generated];
        using var logits = generator.AllLogits(all);                                   // [T, V]
        long[] argmax = logits.argmax(-1).data<long>().ToArray();
        for (int i = 0; i < generated.Count; i++)
        {
            Assert.Equal(generated[i], (int)argmax[prompt.Length - 1 + i]);
        }
    }

    [Fact]
    public void Bf16BatchedDecode_OnTheManagedKernels_FollowsAFullForward()
    {
        // head_dim 32 and 128-wide rows: where AVX-512 exists, each decode step's attention runs in DecodeAttention
        // and its 3-row products in Bf16Gemm; the full forward runs on libtorch's kernels.
        string path = _dir.Combine("qwen2-bf16-d32");
        TinyCheckpoint.Write(path, "qwen2", new TinyCheckpoint.Shape(Hidden: 128, Intermediate: 256, Heads: 4, KvHeads: 2), null, 5);
        using var model = CheckpointLoader.Load(path, ScalarType.BFloat16, CPU).Model;
        var generator = new TextGenerator(model);
        int[][] prompts = [Prompt(13, 1), Prompt(5, 2), Prompt(9, 3)];

        var batched = generator.Generate(prompts, 16, SamplingOptions.Greedy, []);

        for (int i = 0; i < prompts.Length; i++)
        {
            int[] all = [.. prompts[i], .. batched[i].Tokens];
            using var logits = generator.AllLogits(all);                                   // [T, V]
            for (int t = 0; t < batched[i].Tokens.Count; t++)
            {
                // Greedy on the cached path picked the full forward's top token, or one within bf16 noise of it.
                using var row = logits[prompts[i].Length - 1 + t];
                float top = row.max().item<float>();
                float chosen = row[batched[i].Tokens[t]].item<float>();
                Assert.True(top - chosen <= 0.02 * row.abs().max().item<float>(), $"row {i} step {t}: chose a token {top - chosen:G3} below the top");
            }
        }
    }

    [Theory]
    [InlineData("qwen2", 3)]   // q/k/v biases; 3 rows on the few-row kernel, one of them left-padded
    [InlineData("llama", 1)]   // llama3 RoPE scaling, untied head; one row on the single-row kernel
    public void Bf16DecodeSteps_OnRawBuffers_AreBitForBitTheModulePath(string family, int rows)
    {
        if (!DecodeOps.Supported || !ManagedLinear.Covers(rows))
        {
            return; // no AVX-512: both paths are libtorch's
        }

        string path = _dir.Combine($"{family}-bf16-d32");
        TinyCheckpoint.Write(path, family, new TinyCheckpoint.Shape(Hidden: 128, Intermediate: 256, Heads: 4, KvHeads: 2), null, 7);
        using var model = CheckpointLoader.Load(path, ScalarType.BFloat16, CPU).Model;

        // Prefill 6 slots (row 1 left-padded by 2), then 8 single-token steps fed with each step's argmax.
        List<Tensor> Steps()
        {
            using var cache = model.NewCache(rows, 8);
            var ids = tensor(Enumerable.Range(0, rows * 6).Select(i => (long)((i * 29) % 250)).ToArray()).view(rows, 6);
            var valid = ones(rows, 6, dtype: ScalarType.Bool);
            var pos = arange(6).view(1, 6).expand(rows, 6).contiguous();
            if (rows > 1)
            {
                valid[1, ..2] = false;
                pos[1] = tensor(new long[] { 0, 0, 0, 1, 2, 3 });
            }

            var logits = new List<Tensor> { model.Forward(model.Embed(ids), pos, valid, cache, lastOnly: true) };
            for (int step = 0; step < 8; step++)
            {
                var next = logits[^1].argmax(-1);                                                  // [B, 1]
                var position = pos[.., ^1..] + (step + 1);
                logits.Add(model.Forward(model.Embed(next), position, ones(rows, 1, dtype: ScalarType.Bool), cache, lastOnly: true));
            }

            return logits;
        }

        var fused = Steps();
        List<Tensor> modules;
        DecodeLayer.Enabled = false;
        try
        {
            modules = Steps();
        }
        finally
        {
            DecodeLayer.Enabled = true;
        }

        for (int i = 0; i < fused.Count; i++)
        {
            Assert.True(fused[i].eq(modules[i]).all().item<bool>(), $"step {i}: the raw-buffer layer's logits differ from the module path's");
        }
    }

    [Theory]
    [InlineData("qwen2")]   // q/k/v biases, tied head
    [InlineData("llama")]   // llama3 RoPE scaling, untied head
    public void BatchedGeneration_EachRowEqualsRunningItAlone(string family)
    {
        using var model = Tiny(family);
        var generator = new TextGenerator(model);
        int[][] prompts = [Prompt(15, 1), Prompt(4, 2), Prompt(9, 3), Prompt(1, 4)];

        var batched = generator.Generate(prompts, 24, SamplingOptions.Greedy, []);

        for (int i = 0; i < prompts.Length; i++)
        {
            var alone = generator.Generate([prompts[i]], 24, SamplingOptions.Greedy, [])[0];
            Assert.Equal(alone.Tokens, batched[i].Tokens);
        }
    }

    [Fact]
    public void BatchedLogits_MatchSingleRowWithinTolerance()
    {
        using var model = Tiny("qwen2");
        var generator = new TextGenerator(model);
        int[][] prompts = [Prompt(10, 5), Prompt(3, 6)];
        using var cache = model.NewCache(2, 10);
        long[] idValues = [.. prompts[0].Select(i => (long)i), 0, 0, 0, 0, 0, 0, 0, .. prompts[1].Select(i => (long)i)];
        bool[] validValues = [.. Enumerable.Repeat(true, 10), .. Enumerable.Repeat(false, 7), true, true, true];
        long[] posValues = [.. Enumerable.Range(0, 10).Select(i => (long)i), 0, 0, 0, 0, 0, 0, 0, 0, 1, 2];
        using var ids = tensor(idValues).view(2, 10);
        using var valid = tensor(validValues).view(2, 10);
        using var pos = tensor(posValues).view(2, 10);
        using var embeds = model.Embed(ids);
        using var batched = model.Forward(embeds, pos, valid, cache, lastOnly: true).squeeze(1);   // [2, V]

        for (int r = 0; r < 2; r++)
        {
            using var alone = generator.AllLogits(prompts[r]);
            using var last = alone[alone.shape[0] - 1];
            Assert.True(batched[r].allclose(last, rtol: 0, atol: 1e-5), $"row {r}: max diff {(batched[r] - last).abs().max().item<float>()}");
        }
    }

    [Theory]
    [InlineData("qwen2")]   // tied
    [InlineData("llama")]   // untied, llama3 RoPE
    public void SharedPrefixFork_EqualsGeneratingEachContinuationAlone(string family)
    {
        using var model = Tiny(family);
        var generator = new TextGenerator(model);
        int[] prefix = Prompt(14, 7);
        int[][] continuations = [Prompt(3, 8), Prompt(6, 9), Prompt(1, 10)];

        using var state = generator.Prefill(prefix);
        var forked = generator.Continue(state, continuations, 16, SamplingOptions.Greedy, []);

        for (int i = 0; i < continuations.Length; i++)
        {
            var alone = generator.Generate([[.. prefix, .. continuations[i]]], 16, SamplingOptions.Greedy, [])[0];
            Assert.Equal(alone.Tokens, forked[i].Tokens);
        }

        // The prefix state is reusable: a second fork gives the same answers.
        var again = generator.Continue(state, continuations, 16, SamplingOptions.Greedy, []);
        Assert.Equal(forked.Select(f => f.Tokens), again.Select(f => f.Tokens));
    }

    [Fact]
    public void Generation_StopsAtEos()
    {
        using var model = Tiny("qwen2");
        var generator = new TextGenerator(model);
        int[] prompt = Prompt(8, 2);
        var free = generator.Generate([prompt], 12, SamplingOptions.Greedy, [])[0];
        int stop = free.Tokens[3];
        int firstStop = free.Tokens.ToList().IndexOf(stop);

        var stopped = generator.Generate([prompt], 12, SamplingOptions.Greedy, [stop])[0];

        Assert.Equal("stop", stopped.FinishReason);
        Assert.Equal(free.Tokens.Take(firstStop + 1), stopped.Tokens);
        Assert.Equal("length", free.FinishReason);
    }

    [Fact]
    public void Sampling_SameSeedSameTokens_DifferentSeedDiffers()
    {
        using var model = Tiny("llama");
        var generator = new TextGenerator(model);
        int[] prompt = Prompt(5, 3);
        var hot = new SamplingOptions(Temperature: 1.5f, Seed: 42);

        var a = generator.Generate([prompt], 32, hot, [])[0].Tokens;
        var b = generator.Generate([prompt], 32, hot, [])[0].Tokens;
        var c = generator.Generate([prompt], 32, hot with { Seed = 43 }, [])[0].Tokens;

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Sampling_TopKOne_IsGreedy()
    {
        using var logits = tensor(new float[] { 0.1f, 3f, 2.9f, -1f, 0.5f, 0.2f, 4f, 1f }).view(2, 4);
        using var gen = new Generator(1, CPU);

        long[] tokens = Sampling.Next(logits, new SamplingOptions(Temperature: 1f, TopK: 1), gen);

        Assert.Equal([1L, 2L], tokens);
    }

    [Fact]
    public void Sampling_TopP_KeepsOnlyTheNucleus()
    {
        // Probabilities ~ [0.64, 0.24, 0.09, 0.03]: top_p 0.7 keeps the first two tokens only.
        using var logits = tensor(new float[] { 3f, 2f, 1f, 0f }).view(1, 4);
        using var gen = new Generator(7, CPU);
        var seen = new HashSet<long>();
        for (int i = 0; i < 300; i++)
        {
            seen.Add(Sampling.Next(logits, new SamplingOptions(Temperature: 1f, TopP: 0.7f), gen)[0]);
        }

        Assert.Equal([0L, 1L], seen.Order());
    }

    [Fact]
    public void Load_Bf16Model_RunsAndAgreesWithFp32()
    {
        using var fp32 = Tiny("qwen2");
        using var bf16 = Tiny("qwen2", dtype: ScalarType.BFloat16);
        int[] prompt = Prompt(10, 4);

        using var a = new TextGenerator(fp32).AllLogits(prompt);
        using var b = new TextGenerator(bf16).AllLogits(prompt);

        Assert.Equal(ScalarType.BFloat16, bf16.DType);
        double maxDiff = (a - b).abs().max().item<float>();
        double scale = a.abs().max().item<float>();
        Assert.InRange(maxDiff / scale, 1e-5, 0.05);   // not identical (really bf16), but close
    }

    [Fact]
    public void Load_WrongShapeMissingAndUnexpected_AreAllReportedByName()
    {
        string path = _dir.Combine("broken");
        TinyCheckpoint.Write(path, "qwen2", new TinyCheckpoint.Shape(), seed: 1);
        using (var files = SafeTensorsFile.Open(Path.Combine(path, "model.safetensors")))
        {
            var tensors = files.Entries.Where(e => e.Name != "model.norm.weight").Select(e => new KeyValuePair<string, Tensor>(
                e.Name == "model.layers.0.mlp.up_proj.weight" ? "model.layers.0.mlp.up_proj.weights" : e.Name,
                e.Name == "model.layers.1.self_attn.k_proj.weight" ? zeros(8, 64) : files.Load(e.Name))).ToList();
            files.Dispose();
            SafeTensorsWriter.Write(Path.Combine(path, "model.safetensors"), tensors);
        }

        var e = Assert.Throws<MissingWeightsException>(() => CheckpointLoader.Load(path, ScalarType.Float32, CPU));
        Assert.Contains("missing: model.layers.0.mlp.up_proj.weight, model.norm.weight", e.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected: model.layers.0.mlp.up_proj.weights", e.Message, StringComparison.Ordinal);
        Assert.Contains("model.layers.1.self_attn.k_proj.weight is [8, 64] in the file, the config needs [32, 64]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnsupportedConfig_IsTypedError()
    {
        string path = _dir.Combine("swa");
        TinyCheckpoint.Write(path, "qwen2", new TinyCheckpoint.Shape(), seed: 1);
        string config = File.ReadAllText(Path.Combine(path, "config.json")).Replace("\"use_sliding_window\": false", "\"use_sliding_window\": true", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(path, "config.json"), config);

        var e = Assert.Throws<CorruptCheckpointException>(() => CheckpointLoader.Load(path, ScalarType.Float32, CPU));
        Assert.Contains("sliding-window", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("qwen2", true)]    // Qwen2.5-0.5B style: no lm_head.weight in the file
    [InlineData("llama", false)]   // Llama-3.1-8B style: lm_head.weight present
    public void TinyCheckpoint_HasTransformersKeyNames(string family, bool tied)
    {
        string path = _dir.Combine($"keys-{family}");
        TinyCheckpoint.Write(path, family, new TinyCheckpoint.Shape(Layers: 1), tied);
        using var file = SafeTensorsFile.Open(Path.Combine(path, "model.safetensors"));
        string keys = string.Join("\n", file.Entries.Select(e => $"{e.Name} [{string.Join(", ", e.Shape)}]"));

        string expected = family == "qwen2"
            ? """
              model.embed_tokens.weight [256, 64]
              model.layers.0.input_layernorm.weight [64]
              model.layers.0.self_attn.q_proj.weight [64, 64]
              model.layers.0.self_attn.k_proj.weight [32, 64]
              model.layers.0.self_attn.v_proj.weight [32, 64]
              model.layers.0.self_attn.q_proj.bias [64]
              model.layers.0.self_attn.k_proj.bias [32]
              model.layers.0.self_attn.v_proj.bias [32]
              model.layers.0.self_attn.o_proj.weight [64, 64]
              model.layers.0.post_attention_layernorm.weight [64]
              model.layers.0.mlp.gate_proj.weight [128, 64]
              model.layers.0.mlp.up_proj.weight [128, 64]
              model.layers.0.mlp.down_proj.weight [64, 128]
              model.norm.weight [64]
              """
            : """
              model.embed_tokens.weight [256, 64]
              model.layers.0.input_layernorm.weight [64]
              model.layers.0.self_attn.q_proj.weight [64, 64]
              model.layers.0.self_attn.k_proj.weight [32, 64]
              model.layers.0.self_attn.v_proj.weight [32, 64]
              model.layers.0.self_attn.o_proj.weight [64, 64]
              model.layers.0.post_attention_layernorm.weight [64]
              model.layers.0.mlp.gate_proj.weight [128, 64]
              model.layers.0.mlp.up_proj.weight [128, 64]
              model.layers.0.mlp.down_proj.weight [64, 128]
              model.norm.weight [64]
              lm_head.weight [256, 64]
              """;
        Assert.Equal(expected, keys);
        using var model = CheckpointLoader.Load(path, ScalarType.Float32, CPU).Model;
        Assert.Equal(tied, model.Config.TieWordEmbeddings);
    }
}

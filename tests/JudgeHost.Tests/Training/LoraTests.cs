using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Tests.Cli;
using JudgeHost.Training;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Training;

/// <summary>LoRA training, PEFT-layout adapters and merging, on a tiny random Qwen2 with the real Qwen3 tokenizer.</summary>
[Collection(TorchCollection.Name)]
public sealed class LoraTests : IDisposable
{
    private static readonly string Tokenizers = Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Tiny()
    {
        string path = _dir.Combine("tiny");
        if (!Directory.Exists(path))
        {
            TinyCheckpoint.WriteWithTokenizer(path, "qwen2", new TinyCheckpoint.Shape(Hidden: 32, Intermediate: 64, Heads: 2, KvHeads: 1), Tokenizers, seed: 4);
        }

        return path;
    }

    private static List<ChatMessage> Chat(string question, string answer) =>
        [new("system", "You are a judge."), new("user", question), new("assistant", answer)];

    // Logits at every position of ids, optionally with a PEFT adapter applied unmerged.
    private static float[] Logits(string model, int[] ids, string? adapter = null)
    {
        using var m = TextModel.Load(model, ScalarType.Float32, CPU);
        if (adapter is not null)
        {
            LoraAdapter.Load(m.Model, adapter, trainable: false);
        }

        using var cache = m.Model.NewCache(1, ids.Length);
        var input = tensor(ids.Select(i => (long)i).ToArray()).view(1, -1);
        return m.Model.Forward(m.Model.Embed(input), arange(ids.Length, dtype: ScalarType.Int64).view(1, -1), ones(1, ids.Length, dtype: ScalarType.Bool), cache).to(ScalarType.Float32).data<float>().ToArray();
    }

    [Fact]
    public void Train_WithLora_KeepsTheBaseFrozen_WritesPeftAdapter_AndTheMergeMatchesTheAdaptedModel()
    {
        string model = Tiny();
        var tokenizer = HfTokenizer.Load(model);
        var template = ChatTemplate.FromTokenizer(tokenizer, "qwen2");
        int[] eos = GenerationConfigFile.EosIds(model, DecoderConfig.Load(model));
        var sample = SftData.Tokenize(Chat("Score: 7+5=12?", "yes"), tokenizer, template, 512, eos, "test");
        string output = _dir.Combine("lora");
        manual_seed(0);
        var lora = new LoraOptions(4, 8, ["q_proj", "v_proj", "down_proj"]);

        var result = SftTrainer.Train(model, [sample], output, new SftOptions { LearningRate = 3e-2, MaxSteps = 30, BatchSize = 1, Lora = lora, MergeLora = true }, resume: false);

        Assert.True(result.LastLoss < result.FirstLoss / 4, $"loss {result.FirstLoss} -> {result.LastLoss}");
        using (var adapter = SafeTensorsFile.Open(Path.Combine(output, LoraAdapter.WeightsFile)))
        {
            // 2 layers x 3 targets x (A, B), PEFT's key names and shapes.
            Assert.Equal(12, adapter.Entries.Count);
            Assert.Equal([4L, 32], adapter["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].Shape);
            Assert.Equal([32L, 4], adapter["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"].Shape);
        }

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, LoraAdapter.ConfigFile)));
        Assert.Equal("LORA", config.RootElement.GetProperty("peft_type").GetString());
        Assert.Equal(8, config.RootElement.GetProperty("lora_alpha").GetDouble());
        Assert.False(File.Exists(Path.Combine(output, "model.safetensors")), "a LoRA run must not rewrite the base weights");

        // The merged checkpoint equals the base with the adapter applied unmerged, and differs from the base.
        var ids = sample.Ids;
        var baseLogits = Logits(model, ids);
        var mergedLogits = Logits(Path.Combine(output, "merged"), ids);
        var applied = Logits(model, ids, adapter: output);

        Assert.True(mergedLogits.Zip(applied).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
        Assert.True(mergedLogits.Zip(baseLogits).Max(p => Math.Abs(p.First - p.Second)) > 1e-2);
    }

    [Fact]
    public void Train_WithLora_InterruptedAndResumed_EndsWhereAnUninterruptedRunEnds()
    {
        string model = Tiny();
        var tokenizer = HfTokenizer.Load(model);
        var template = ChatTemplate.FromTokenizer(tokenizer, "qwen2");
        int[] eos = GenerationConfigFile.EosIds(model, DecoderConfig.Load(model));
        var samples = Enumerable.Range(0, 4).Select(i => SftData.Tokenize(Chat($"Is {i}+1={i + 1}?", i % 2 == 0 ? "yes" : "no"), tokenizer, template, 512, eos, "test")).ToList();
        var options = new SftOptions { LearningRate = 1e-2, MaxSteps = 4, BatchSize = 2, WarmupSteps = 1, SaveEvery = 2, Seed = 3, Lora = new LoraOptions(2, 4, LoraOptions.AllProjections) };

        manual_seed(1);
        var straight = new List<double>();
        SftTrainer.Train(model, samples, _dir.Combine("straight"), options, resume: false, s => straight.Add(s.Loss));
        manual_seed(1);
        using var cancel = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => SftTrainer.Train(model, samples, _dir.Combine("resumed"), options, resume: false, s =>
        {
            if (s.Step == 3)
            {
                cancel.Cancel();
            }
        }, cancel.Token));
        var second = new List<double>();
        var result = SftTrainer.Train(model, samples, _dir.Combine("resumed"), options, resume: true, s => second.Add(s.Loss));

        Assert.Equal(2, result.ResumedFrom);
        Assert.Equal(straight.Skip(2), second, (a, b) => Math.Abs(a - b) < 1e-5);
        var other = options with { Lora = new LoraOptions(3, 4, LoraOptions.AllProjections) };
        var refused = Assert.Throws<JudgeHostException>(() => SftTrainer.Train(model, samples, _dir.Combine("resumed"), other with { MaxSteps = 6 }, resume: true));
        Assert.Contains("r=2", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_MergeLora_RefusesAnAdapterWithATensorNoTargetTakes()
    {
        string model = Tiny();
        string data = _dir.Combine("train.jsonl");
        await File.WriteAllLinesAsync(data, [JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "Is 1+1=2?" }, new { role = "assistant", content = "yes" } } })]);
        var trained = await CliRunner.RunAsync("train", "sft", "--model", model, "--data", data, "--out", _dir.Combine("a"), "--max-steps", "2", "--batch-size", "1", "--lora-r", "2", "--lora-targets", "q_proj,up_proj");
        Assert.True(trained.ExitCode == 0, trained.Error);

        var merged = await CliRunner.RunAsync("train", "merge-lora", "--model", model, "--adapter", _dir.Combine("a"), "--out", _dir.Combine("m"));
        Assert.True(merged.ExitCode == 0, merged.Error);
        Assert.Contains("merged 4 adapted projections", merged.Output, StringComparison.Ordinal);

        // Narrow the config so up_proj's tensors are left over: strict loading names one.
        string config = Path.Combine(_dir.Combine("a"), LoraAdapter.ConfigFile);
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace("\"up_proj\"", "\"k_proj\"", StringComparison.Ordinal));
        var refused = await CliRunner.RunAsync("train", "merge-lora", "--model", model, "--adapter", _dir.Combine("a"), "--out", _dir.Combine("m2"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("k_proj.lora_A.weight", refused.Error, StringComparison.Ordinal);
    }
}

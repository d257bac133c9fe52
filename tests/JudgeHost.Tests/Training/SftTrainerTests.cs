using System.Text.Json;
using JudgeHost.Backbone;
using JudgeHost.Tests.Cli;
using JudgeHost.Training;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Training;

/// <summary>SFT on a tiny random Qwen2 with the real Qwen3 tokenizer and chat template.</summary>
[Collection(TorchCollection.Name)]
public sealed class SftTrainerTests : IDisposable
{
    private static readonly string Tokenizers = Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Tiny(long seed = 5)
    {
        string path = _dir.Combine($"tiny-{seed}");
        if (!Directory.Exists(path))
        {
            TinyCheckpoint.WriteWithTokenizer(path, "qwen2", new TinyCheckpoint.Shape(Hidden: 32, Intermediate: 64, Heads: 2, KvHeads: 1), Tokenizers, seed: seed);
        }

        return path;
    }

    private static List<ChatMessage> Chat(string question, string answer) =>
        [new("system", "You are a judge."), new("user", question), new("assistant", answer)];

    // One-turn chats tokenized for `model` as `train sft` does, and the tokenizer.
    private static (List<SftSample> Samples, HfTokenizer Tokenizer) Samples(string model, params (string Question, string Answer)[] chats)
    {
        var tokenizer = HfTokenizer.Load(model);
        var template = ChatTemplate.FromTokenizer(tokenizer, "qwen2");
        int[] eos = GenerationConfigFile.EosIds(model, DecoderConfig.Load(model));
        return (chats.Select(q => SftData.Tokenize(Chat(q.Question, q.Answer), tokenizer, template, 512, eos, "test")).ToList(), tokenizer);
    }

    [Fact]
    public void Tokenize_MarksExactlyTheAssistantContentAndItsEndOfTurnToken()
    {
        var tokenizer = HfTokenizer.Load(Tokenizers);
        var template = ChatTemplate.FromTokenizer(tokenizer, "qwen2");
        int imEnd = tokenizer.TokenToId("<|im_end|>")!.Value;

        var sample = SftData.Tokenize(Chat("Is 2+2=4?", "<think>\n2+2 is 4.\n</think>\n\nyes"), tokenizer, template, 512, [imEnd], "test");

        var trained = sample.Ids.Where((_, i) => sample.Trained[i]).ToList();
        Assert.Equal("<think>\n2+2 is 4.\n</think>\n\nyes<|im_end|>", tokenizer.Decode(trained).Replace("<think>\n\n</think>\n\n", "", StringComparison.Ordinal));
        Assert.False(sample.Trained[0]);
        Assert.Contains("You are a judge.", tokenizer.Decode(sample.Ids.Where((_, i) => !sample.Trained[i])), StringComparison.Ordinal);
    }

    [Fact]
    public void Schedule_WarmsUpLinearlyThenDecaysByCosineToZero()
    {
        var options = new SftOptions { LearningRate = 1e-3, WarmupSteps = 4 };

        Assert.Equal(0, SftTrainer.Schedule(0, 20, options));
        Assert.Equal(5e-4, SftTrainer.Schedule(2, 20, options), 12);
        Assert.Equal(1e-3, SftTrainer.Schedule(4, 20, options), 12);
        Assert.Equal(5e-4, SftTrainer.Schedule(12, 20, options), 12);
        Assert.Equal(0, SftTrainer.Schedule(20, 20, options), 12);
    }

    [Fact]
    public void BatchLoss_WithTheSharedPrefixRunOnce_EqualsTheFullPass_InLossAndGradients()
    {
        string model = Tiny();
        var (batch, _) = Samples(model, ("Is 2+2=4?", "yes"), ("Is 2+3=4? Think twice.", "no, it is five"), ("Is 7*6=42?", "yes"));
        var (lm, _) = CheckpointLoader.Load(model, ScalarType.Float32, CPU);
        using (lm)
        {
            var parameters = lm.parameters().ToList();
            parameters.ForEach(p => p.requires_grad = true);
            float[] Run(bool share, out float loss)
            {
                parameters.ForEach(p => p.grad?.zero_());
                var l = SftTrainer.BatchLossSum(lm, batch, share);
                l.backward();
                loss = l.item<float>();
                return parameters.SelectMany(p => p.grad!.data<float>().ToArray()).ToArray();
            }

            int shared = SftTrainer.SharedPrefix(batch);
            var full = Run(false, out float fullLoss);
            var once = Run(true, out float onceLoss);

            Assert.True(shared > 8, $"shared prefix {shared}");
            Assert.Equal(fullLoss, onceLoss, 3e-4f);
            Assert.True(full.Zip(once).Max(p => Math.Abs(p.First - p.Second)) < 1e-4, "gradients differ");
        }
    }

    [Fact]
    public void BatchLoss_TokenWeights_ScaleEachTargetsLoss()
    {
        string model = Tiny();
        var (batch, tokenizer) = Samples(model, ("Is 2+2=4?", "yes"), ("Is 2+3=4?", "no, it is five"), ("Is 7*6=42?", "yes"));
        int yes = JudgeHost.Cli.TrainCommand.TokenWeights(["yes=3"], tokenizer)!.Keys.Single();
        var (lm, _) = CheckpointLoader.Load(model, ScalarType.Float32, CPU);
        using (lm)
        {
            float Loss(IReadOnlyDictionary<int, double>? w) => SftTrainer.BatchLossSum(lm, batch, weights: w).item<float>();
            float plain = Loss(null), ones = Loss(new Dictionary<int, double> { [yes] = 1 });
            float tripled = Loss(new Dictionary<int, double> { [yes] = 3 }), dropped = Loss(new Dictionary<int, double> { [yes] = 0 });

            Assert.Equal(plain, ones, 1e-4f);
            Assert.True(dropped < plain);
            Assert.Equal(plain - dropped, (tripled - plain) / 2, 1e-3f);   // "yes" appears twice as a target, each loss tripled
            var counts = new Dictionary<int, double> { [yes] = 3 };
            Assert.Equal(batch.Sum(b => b.Trained.Skip(1).Count(t => t)) + 4, batch.Sum(b => SftTrainer.TrainedWeight(b, counts)));
        }
    }

    [Fact]
    public void TokenWeights_TakeSingleTokenTexts_AndRejectTheRestByName()
    {
        var tokenizer = HfTokenizer.Load(Tiny());
        var weights = JudgeHost.Cli.TrainCommand.TokenWeights(["yes=8", " no=2.5"], tokenizer)!;
        Assert.Equal([8.0, 2.5], weights.Values.Order().Reverse());
        Assert.Null(JudgeHost.Cli.TrainCommand.TokenWeights([], tokenizer));
        var many = Assert.Throws<JudgeHost.Abstractions.JudgeHostException>(() => JudgeHost.Cli.TrainCommand.TokenWeights(["is it five=2"], tokenizer));
        Assert.Contains("'is it five' is", many.Message, StringComparison.Ordinal);
        Assert.Throws<JudgeHost.Abstractions.JudgeHostException>(() => JudgeHost.Cli.TrainCommand.TokenWeights(["yes"], tokenizer));
        Assert.Throws<JudgeHost.Abstractions.JudgeHostException>(() => new SftOptions { TokenWeights = new Dictionary<int, double> { [1] = -1 } }.Validate());
    }

    [Fact]
    public void Batch_GroupedByPrefix_IsAPermutationOfTheEpoch_AndPutsAlikeSamplesTogether()
    {
        var samples = Enumerable.Range(0, 64).Select(i => new SftSample([i % 2, i, 7], [false, false, true], i)).ToList();
        var options = new SftOptions { BatchSize = 4, Seed = 5 };

        var batches = Enumerable.Range(0, 16).Select(k => SftTrainer.Batch(samples, k, options, 16)).ToList();

        Assert.Equal(Enumerable.Range(0, 64), batches.SelectMany(b => b.Select(s => s.Line)).Order());
        Assert.True(batches.Count(b => b.Select(s => s.Ids[0]).Distinct().Count() == 1) >= 14);
        Assert.NotEqual(batches[0].Select(s => s.Line), SftTrainer.Batch(samples, 16, options, 16).Select(s => s.Line));   // next epoch: new order
    }

    [Fact]
    public void Train_OneSample_LearnsItAndTheSavedModelGeneratesIt()
    {
        string model = Tiny();
        var tokenizer = HfTokenizer.Load(model);
        var template = ChatTemplate.FromTokenizer(tokenizer, "qwen2");
        int[] eos = GenerationConfigFile.EosIds(model, DecoderConfig.Load(model));
        var sample = SftData.Tokenize(Chat("Score: 7+5=12?", "yes"), tokenizer, template, 512, eos, "test");
        string output = _dir.Combine("sft");
        manual_seed(0);

        var result = SftTrainer.Train(model, [sample], output, new SftOptions { LearningRate = 3e-2, MaxSteps = 40, BatchSize = 1 }, resume: false);

        Assert.True(result.LastLoss < result.FirstLoss / 10, $"loss {result.FirstLoss} -> {result.LastLoss}");
        using var trained = TextModel.Load(output, ScalarType.Float32, CPU);
        string prompt = template.Render(Chat("Score: 7+5=12?", "yes").Take(2).ToList(), addGenerationPrompt: true);
        var ids = tokenizer.Encode(prompt).ToArray();
        var generated = trained.Generator.Generate([(IReadOnlyList<int>)ids], 8, SamplingOptions.Greedy, trained.EosIds)[0];
        Assert.Contains("yes", tokenizer.Decode(generated.Tokens), StringComparison.Ordinal);
    }

    [Fact]
    public void Train_InterruptedAndResumed_EndsWhereAnUninterruptedRunEnds()
    {
        string model = Tiny();
        var tokenizer = HfTokenizer.Load(model);
        var template = ChatTemplate.FromTokenizer(tokenizer, "qwen2");
        int[] eos = GenerationConfigFile.EosIds(model, DecoderConfig.Load(model));
        var samples = Enumerable.Range(0, 4).Select(i => SftData.Tokenize(Chat($"Is {i}+1={i + 1}?", i % 2 == 0 ? "yes" : "no"), tokenizer, template, 512, eos, "test")).ToList();
        var options = new SftOptions { LearningRate = 1e-2, MaxSteps = 4, BatchSize = 1, GradientAccumulation = 2, WarmupSteps = 1, SaveEvery = 2, Seed = 3 };

        var straight = new List<double>();
        SftTrainer.Train(model, samples, _dir.Combine("straight"), options, resume: false, s => straight.Add(s.Loss));
        using var cancel = new CancellationTokenSource();
        var first = new List<double>();
        Assert.ThrowsAny<OperationCanceledException>(() => SftTrainer.Train(model, samples, _dir.Combine("resumed"), options, resume: false, s =>
        {
            first.Add(s.Loss);
            if (s.Step == 3)
            {
                cancel.Cancel();   // dies after step 3: checkpoint-2 is the newest
            }
        }, cancel.Token));
        var second = new List<double>();
        var result = SftTrainer.Train(model, samples, _dir.Combine("resumed"), options, resume: true, s => second.Add(s.Loss));

        Assert.Equal(2, result.ResumedFrom);
        Assert.Equal(straight.Take(3), first, (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(straight.Skip(2), second, (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public async Task Cli_TrainSft_WritesALoadableModelAndRefusesABadLine()
    {
        string model = Tiny();
        string data = _dir.Combine("train.jsonl");
        await File.WriteAllLinesAsync(data,
        [
            JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "Is 1+1=2?" }, new { role = "assistant", content = "yes" } } }),
            JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "Is 1+1=3?" }, new { role = "assistant", content = "no" } } }),
        ]);
        string bad = _dir.Combine("bad.jsonl");
        await File.WriteAllLinesAsync(bad, ["{\"messages\": [{\"role\": \"user\"}]}"]);

        var ok = await CliRunner.RunAsync("train", "sft", "--model", model, "--data", data, "--out", _dir.Combine("out"), "--max-steps", "2", "--batch-size", "2", "--lr", "1e-3");
        var refused = await CliRunner.RunAsync("train", "sft", "--model", model, "--data", bad, "--out", _dir.Combine("out2"));

        Assert.True(ok.ExitCode == 0, ok.Error);
        Assert.Contains("\"step\":2", ok.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir.Combine("out"), "model.safetensors")));
        var generate = await CliRunner.RunAsync("generate", "--model", _dir.Combine("out"), "--prompt", "Is 1+1=2?", "--chat", "--max-new-tokens", "2");
        Assert.True(generate.ExitCode == 0, generate.Error);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("bad.jsonl' line 1", refused.Error, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
using JudgeHost.Backbone;
using JudgeHost.Training;
using static TorchSharp.torch;

namespace JudgeHost.Bench;

/// <summary>
/// Training throughput of <c>train sft</c> on the judging curriculum: optimizer steps of 16 samples on a small
/// Qwen2 (the bundled judge's shape) with a byte-level BPE tokenizer trained on the same data, as the default
/// trainer runs them (micro-batches grouped by prefix, the shared system prompt run once) against the plain
/// shuffled order with every row run in full. Tokens/s counts every token of the samples (prompt + answer).
/// </summary>
public static class TrainBench
{
    public static int Run(bool quick, TextWriter output)
    {
        int steps = quick ? 3 : 8;
        string dir = Path.Combine(Path.GetTempPath(), $"judgehost-bench-train-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            var items = Curriculum.Generate(16 * TrainGroupWindow * 2, seed: 1, heldOut: false);
            var template = ChatTemplate.ForFormat(ChatTemplateFormat.Qwen2);
            var corpus = items.Select(i => template.Render(i.Messages, addGenerationPrompt: false)).ToList();
            string tokDir = Path.Combine(dir, "tok");
            BpeTrainer.Write(tokDir, corpus, 1024, File.ReadAllText(Path.Combine(BestOfNBench.RepoRoot(), "tools", "tokenizer", "templates", "qwen2_5_instruct.jinja")), BpeTrainer.SpacedDigitsPattern);
            string modelDir = Path.Combine(dir, "model");
            TinyCheckpoint.WriteWithTokenizer(modelDir, "qwen2", new TinyCheckpoint.Shape(0, 256, 768, 4, 8, 4, InitializerRange: 0.02), tokDir, tied: true, seed: 1);
            var tokenizer = HfTokenizer.Load(modelDir);
            var chat = ChatTemplate.FromTokenizer(tokenizer, "qwen2");
            int[] eos = GenerationConfigFile.EosIds(modelDir, DecoderConfig.Load(modelDir));
            var samples = items.Select((i, k) => SftData.Tokenize(i.Messages, tokenizer, chat, 2048, eos, "bench", k)).ToList();
            long tokensPerStep = (long)samples.Average(s => s.Ids.Length) * 16;

            output.WriteLine($"# training benchmark: qwen2 hidden 256 x 4 layers, 8 heads ({(quick ? "quick" : "full")}), fp32, threads {get_num_threads()}, batch 16, {steps} steps, ~{tokensPerStep} tokens per step");
            double grouped = Measure(modelDir, samples, steps, groupByPrefix: true, Path.Combine(dir, "a"));
            double plain = Measure(modelDir, samples, steps, groupByPrefix: false, Path.Combine(dir, "b"));
            output.WriteLine($"plain order, full rows          : {plain,8:F0} tokens/s   1.00x");
            output.WriteLine($"grouped by prefix, prefix once  : {grouped,8:F0} tokens/s   {grouped / plain:F2}x");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private const int TrainGroupWindow = SftTrainer.GroupWindow;

    private static double Measure(string model, IReadOnlyList<SftSample> samples, int steps, bool groupByPrefix, string output)
    {
        var options = new SftOptions { LearningRate = 1e-3, BatchSize = 16, MaxSteps = steps + 1, GroupByPrefix = groupByPrefix, Seed = 1 };
        var rates = new List<double>();
        manual_seed(1);
        SftTrainer.Train(model, samples, output, options, resume: false, s =>
        {
            if (s.Step > 1)
            {
                rates.Add(s.TokensPerSecond);   // step 1 warms up allocator and kernels
            }
        });
        return rates.Count == 0 ? double.NaN : rates.Sum() / rates.Count;
    }
}

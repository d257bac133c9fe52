using System.Diagnostics;
using JudgeHost.Backbone;
using JudgeHost.Judging;
using JudgeHost.Pipelines;
using static TorchSharp.torch;

namespace JudgeHost.Bench;

/// <summary>
/// Best-of-16 pointwise judging of one prompt with a long shared prefix (standing for media + instruction): the
/// pipeline's path (one judge call; the prefix prefilled once and forked into 16 rows, decoded as one batch)
/// against judging each candidate alone (the full prompt re-prefilled 16 times), and against one 16-row batch of
/// full prompts without prefix reuse. Random weights in the Hugging Face layout with a real tokenizer.
/// </summary>
public static class BestOfNBench
{
    public static int Run(bool quick, TextWriter output)
    {
        const int candidates = 16;
        var shape = quick ? new TinyCheckpoint.Shape(0, 512, 1536, 8, 8, 2) : new TinyCheckpoint.Shape(0, 896, 4864, 24, 14, 2);
        int prefixWords = quick ? 700 : 900;
        int newTokens = 16;
        string tokenizerDir = Path.Combine(RepoRoot(), "tests", "JudgeHost.Tests", "Fixtures", "tokenizers", "qwen3");
        string dir = Path.Combine(Path.GetTempPath(), $"judgehost-bench-bon-{shape.Hidden}-{shape.Layers}");
        if (!File.Exists(Path.Combine(dir, "model.safetensors")))
        {
            output.WriteLine($"writing random checkpoint to {dir} …");
            TinyCheckpoint.WriteWithTokenizer(dir, "qwen2", shape, tokenizerDir, tied: true, seed: 1, dtype: ScalarType.BFloat16);
        }

        using var model = TextModel.Load(dir, ScalarType.BFloat16, CPU);
        var tokenizer = model.RequireTokenizer();
        var template = model.RequireTemplate();
        var recorder = new RecordingBackend(new TextJudgeBackend(model.Generator, tokenizer, template, model.EosIds));
        var judge = new JudgeService(recorder, new JudgeOptions { MaxNewTokens = newTokens });
        var selector = new BestOfNSelector(judge, new BestOfNOptions { Method = SelectionMethod.Pointwise });

        var words = new[] { "molecule", "membrane", "permeability", "aromatic", "ring", "polar", "surface", "hydrogen", "donor", "acceptor", "lipophilic", "weight" };
        string question = "Given the attached evidence, " + string.Join(' ', Enumerable.Range(0, prefixWords).Select(i => words[(i * 7) % words.Length])) + ". Is it permeable?";
        var item = new PromptItem { Id = "bench", Instruction = question };
        var answers = Candidate.FromInput([.. Enumerable.Range(0, candidates).Select(i =>
            $"Candidate {i}: " + string.Join(' ', Enumerable.Range(0, 30).Select(k => words[((i * 5) + (k * 3)) % words.Length])) + ". Final answer: high permeability.")]);

        // Warm-up (allocator, thread pools, kernels).
        selector.Select(item with { Instruction = "warm up" }, answers.Take(2).ToArray());
        recorder.Prompts.Clear();

        output.WriteLine($"# best-of-N benchmark: {(quick ? "quick (8 layers, hidden 512)" : "Qwen2-0.5B shape")}, bf16, threads {get_num_threads()}, N = {candidates}, {newTokens} new tokens per judgment");
        var clock = Stopwatch.StartNew();
        var shared = selector.Select(item, answers);
        double sharedSeconds = clock.Elapsed.TotalSeconds;
        var prompts = recorder.Prompts.ToList();
        var sequences = prompts.Select(p => (IReadOnlyList<int>)tokenizer.Encode(
            template.Render([new ChatMessage("system", p.System), new ChatMessage("user", p.User)], addGenerationPrompt: true) + p.AssistantPrefix)).ToArray();
        int prefixTokens = tokenizer.Encode(template.Render([new ChatMessage("system", prompts[0].System), new ChatMessage("user", prompts[0].User[..prompts[0].SharedPrefixLength])], addGenerationPrompt: false)).Count;
        output.WriteLine($"prompt: ~{prefixTokens} shared prefix tokens (system + instruction), {sequences.Min(s => s.Count) - prefixTokens}-{sequences.Max(s => s.Count) - prefixTokens} candidate tokens");

        // Naive: every candidate judged alone, its whole prompt prefilled again.
        clock.Restart();
        var naiveJudgments = answers.Select(a => judge.Judge([item.ToRequest($"bench#c{a.Index}", JudgeTask.Pointwise, [a.Text])])[0]).ToList();
        double naiveSeconds = clock.Elapsed.TotalSeconds;

        // One batch of the 16 full prompts, no prefix reuse (left-padded, each row prefilled in full).
        clock.Restart();
        model.Generator.Generate(sequences, newTokens, SamplingOptions.Greedy, model.EosIds);
        double batchSeconds = clock.Elapsed.TotalSeconds;

        int same = shared.Judgments.Zip(naiveJudgments, (a, b) => a.Samples[0].Raw == b.Samples[0].Raw).Count(x => x);
        output.WriteLine($"shared prefix (prefill once, fork 16, one batch): {sharedSeconds:F2} s");
        output.WriteLine($"naive (each candidate judged alone, prefix re-prefilled 16x): {naiveSeconds:F2} s = {naiveSeconds / sharedSeconds:F2}x the shared-prefix time (target >= 4x)");
        output.WriteLine($"one 16-row batch of full prompts (no prefix reuse): {batchSeconds:F2} s = {batchSeconds / sharedSeconds:F2}x");
        output.WriteLine($"judge outputs identical between shared-prefix and alone: {same}/{candidates} (greedy; bf16 batch numerics may flip near-ties)");
        return 0;
    }

    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "JudgeHost.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("Run the bench from inside the repository (it reads the tokenizer fixture).");
    }

    private sealed class RecordingBackend(IJudgeBackend inner) : IJudgeBackend
    {
        public List<JudgePrompt> Prompts { get; } = [];

        public IReadOnlySet<string> Modalities => inner.Modalities;

        public IReadOnlyList<GenerationOutput> Generate(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, CancellationToken cancellationToken = default)
        {
            Prompts.AddRange(prompts);
            return inner.Generate(prompts, settings, cancellationToken);
        }
    }
}

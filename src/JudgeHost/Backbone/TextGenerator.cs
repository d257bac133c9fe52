using System.Diagnostics;
using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>One generated sequence.</summary>
/// <param name="Tokens">New token ids (the stop token included when one was hit).</param>
/// <param name="FinishReason"><c>stop</c> (an eos id) or <c>length</c> (max new tokens).</param>
public sealed record Generation(IReadOnlyList<int> Tokens, string FinishReason);

/// <summary>A prefilled shared prefix: fork it into continuations without prefilling it again.</summary>
public sealed class PrefixState : IDisposable
{
    internal PrefixState(KvCache cache, int length)
    {
        Cache = cache;
        Length = length;
    }

    internal KvCache Cache { get; }

    /// <summary>Prefix tokens (positions 0..Length-1).</summary>
    public int Length { get; }

    public void Dispose() => Cache.Dispose();
}

/// <summary>
/// Generation over a <see cref="CausalLM"/>: KV cache, greedy or sampled decoding, eos stops, batches of
/// prompts of different lengths (left padding, per-row positions), and shared prefixes forked into N rows.
/// </summary>
public sealed class TextGenerator(CausalLM model)
{
    public CausalLM Model => model;

    /// <summary>Tokens and seconds spent in the last call (prefill and decode), for throughput reports.</summary>
    public (int PrefillTokens, double PrefillSeconds, int DecodeTokens, double DecodeSeconds) LastTimings { get; private set; }

    /// <summary>Generates a continuation for every prompt, batched; each row equals running it alone.</summary>
    public IReadOnlyList<Generation> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, int maxNewTokens, SamplingOptions sampling, IReadOnlyCollection<int> eosIds)
    {
        if (prompts.Count == 0)
        {
            return [];
        }

        if (prompts.Any(p => p.Count == 0))
        {
            throw new JudgeHostException("A prompt is empty; give at least one token.");
        }

        int batch = prompts.Count;
        int width = prompts.Max(p => p.Count);
        var ids = new long[batch * width];
        var valid = new bool[batch * width];
        var positions = new long[batch * width];
        for (int b = 0; b < batch; b++)
        {
            int pad = width - prompts[b].Count;
            for (int t = 0; t < prompts[b].Count; t++)
            {
                ids[(b * width) + pad + t] = prompts[b][t];
                valid[(b * width) + pad + t] = true;
                positions[(b * width) + pad + t] = t;
            }
        }

        using var cache = model.NewCache(batch, width + maxNewTokens);
        var clock = Stopwatch.StartNew();
        using var logits = Step(cache, ids, positions, valid, batch, width);
        double prefill = clock.Elapsed.TotalSeconds;
        var next = prompts.Select(p => (long)p.Count).ToArray();
        var result = Decode(cache, logits, next, maxNewTokens, sampling, eosIds);
        LastTimings = (prompts.Sum(p => p.Count), prefill, LastTimings.DecodeTokens, LastTimings.DecodeSeconds);
        return result;
    }

    /// <summary>Prefills a prefix once (batch of one) for later <see cref="Continue"/> calls.</summary>
    public PrefixState Prefill(IReadOnlyList<int> prefix, int reserve = 256)
    {
        if (prefix.Count == 0)
        {
            throw new JudgeHostException("The shared prefix is empty.");
        }

        var cache = model.NewCache(1, prefix.Count + reserve);
        try
        {
            var ids = prefix.Select(i => (long)i).ToArray();
            var positions = Enumerable.Range(0, prefix.Count).Select(i => (long)i).ToArray();
            using var _ = Step(cache, ids, positions, Enumerable.Repeat(true, prefix.Count).ToArray(), 1, prefix.Count);
            return new PrefixState(cache, prefix.Count);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Forks the prefix into one row per continuation (each a non-empty token list appended after the prefix,
    /// right-padded in the batch), then decodes every row. Equal to generating prefix+continuation alone.
    /// </summary>
    public IReadOnlyList<Generation> Continue(PrefixState prefix, IReadOnlyList<IReadOnlyList<int>> continuations, int maxNewTokens, SamplingOptions sampling, IReadOnlyCollection<int> eosIds)
    {
        if (continuations.Any(c => c.Count == 0))
        {
            throw new JudgeHostException("A continuation is empty; give at least one token after the prefix.");
        }

        int batch = continuations.Count;
        int width = continuations.Max(c => c.Count);
        using var cache = prefix.Cache.Select(Enumerable.Repeat(0L, batch).ToArray(), width + maxNewTokens);
        var ids = new long[batch * width];
        var valid = new bool[batch * width];
        var positions = new long[batch * width];
        var lastIndex = new long[batch];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < width; t++)
            {
                bool real = t < continuations[b].Count;
                ids[(b * width) + t] = real ? continuations[b][t] : 0;
                valid[(b * width) + t] = real;
                positions[(b * width) + t] = prefix.Length + Math.Min(t, continuations[b].Count - 1);
            }

            lastIndex[b] = continuations[b].Count - 1;
        }

        var clock = Stopwatch.StartNew();
        Tensor last;
        using (var scope = NewDisposeScope())
        {
            var all = StepAll(cache, ids, positions, valid, batch, width);                           // [B, W, V]
            using var index = tensor(lastIndex, device: all.device).view(batch, 1, 1).expand(batch, 1, all.shape[2]);
            last = all.gather(1, index).MoveToOuterDisposeScope();                                   // [B, 1, V]
        }

        double prefill = clock.Elapsed.TotalSeconds;
        using (last)
        {
            var next = continuations.Select(c => (long)(prefix.Length + c.Count)).ToArray();
            var result = Decode(cache, last, next, maxNewTokens, sampling, eosIds);
            LastTimings = (continuations.Sum(c => c.Count), prefill, LastTimings.DecodeTokens, LastTimings.DecodeSeconds);
            return result;
        }
    }

    /// <summary>Logits of every position of one sequence <c>[T, V]</c> in float32 (for parity checks).</summary>
    public Tensor AllLogits(IReadOnlyList<int> ids)
    {
        using var cache = model.NewCache(1, ids.Count);
        var positions = Enumerable.Range(0, ids.Count).Select(i => (long)i).ToArray();
        using var logits = StepAll(cache, ids.Select(i => (long)i).ToArray(), positions, Enumerable.Repeat(true, ids.Count).ToArray(), 1, ids.Count);
        return logits.squeeze(0).to(ScalarType.Float32).cpu();
    }

    private IReadOnlyList<Generation> Decode(KvCache cache, Tensor firstLogits, long[] nextPosition, int maxNewTokens, SamplingOptions sampling, IReadOnlyCollection<int> eosIds)
    {
        sampling.Validate();
        int batch = nextPosition.Length;
        var outputs = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        var finish = new string?[batch];
        using var generator = sampling.Temperature > 0 ? new Generator((ulong)(sampling.Seed ?? Random.Shared.NextInt64()), CPU) : null;
        var eos = eosIds.ToHashSet();
        var logits = firstLogits.narrow(1, firstLogits.shape[1] - 1, 1).squeeze(1);                    // [B, V]
        var clock = Stopwatch.StartNew();
        int decoded = 0;
        try
        {
            for (int step = 0; step < maxNewTokens; step++)
            {
                long[] tokens = Sampling.Next(logits, sampling, generator);
                if (step > 0)
                {
                    logits.Dispose();
                }

                for (int b = 0; b < batch; b++)
                {
                    if (finish[b] is not null)
                    {
                        continue;
                    }

                    outputs[b].Add((int)tokens[b]);
                    if (eos.Contains((int)tokens[b]))
                    {
                        finish[b] = "stop";
                    }
                    else if (outputs[b].Count == maxNewTokens)
                    {
                        finish[b] = "length";
                    }
                }

                if (finish.All(f => f is not null))
                {
                    break;
                }

                // Finished rows keep stepping (their slot is marked padding) so the batch stays rectangular.
                var valid = finish.Select(f => f is null).ToArray();
                var positions = nextPosition.ToArray();
                for (int b = 0; b < batch; b++)
                {
                    if (finish[b] is null)
                    {
                        nextPosition[b]++;
                    }
                }

                using var stepLogits = Step(cache, tokens, positions, valid, batch, 1);                // [B, 1, V]
                logits = stepLogits.squeeze(1).alias();
                decoded += valid.Count(v => v);
            }
        }
        finally
        {
            if (!ReferenceEquals(logits, firstLogits))
            {
                logits.Dispose();
            }
        }

        LastTimings = (0, 0, decoded, clock.Elapsed.TotalSeconds);
        return outputs.Select((o, b) => new Generation(o, finish[b] ?? "length")).ToArray();
    }

    private Tensor Step(KvCache cache, long[] ids, long[] positions, bool[] valid, int batch, int width) =>
        Run(cache, ids, positions, valid, batch, width, lastOnly: true);

    private Tensor StepAll(KvCache cache, long[] ids, long[] positions, bool[] valid, int batch, int width) =>
        Run(cache, ids, positions, valid, batch, width, lastOnly: false);

    private Tensor Run(KvCache cache, long[] ids, long[] positions, bool[] valid, int batch, int width, bool lastOnly)
    {
        using var scope = NewDisposeScope();
        var idTensor = tensor(ids).view(batch, width);
        var embeds = model.Embed(idTensor);                                                             // [B, W, D]
        var pos = tensor(positions).view(batch, width);
        var validTensor = tensor(valid).view(batch, width);
        return model.Forward(embeds, pos, validTensor, cache, lastOnly).MoveToOuterDisposeScope();
    }
}

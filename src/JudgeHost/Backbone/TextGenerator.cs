using System.Diagnostics;
using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>One generated sequence.</summary>
/// <param name="Tokens">New token ids (the stop token included when one was hit).</param>
/// <param name="FinishReason"><c>stop</c> (an eos id) or <c>length</c> (max new tokens).</param>
public sealed record Generation(IReadOnlyList<int> Tokens, string FinishReason);

/// <summary>Tokens and seconds of the last generation call.</summary>
public sealed record GenerationTimings(int PrefillTokens, double PrefillSeconds, int DecodeTokens, double DecodeSeconds);

/// <summary>A prefilled shared prefix: fork it into continuations without prefilling it again.</summary>
public sealed class PrefixState : IDisposable
{
    internal PrefixState(KvCache cache, long nextPosition, int positionRows)
    {
        Cache = cache;
        NextPosition = nextPosition;
        PositionRows = positionRows;
    }

    /// <summary>Slots the prefix occupies.</summary>
    public int Length => Cache.Length;

    internal KvCache Cache { get; }

    internal long NextPosition { get; }

    internal int PositionRows { get; }

    public void Dispose() => Cache.Dispose();
}

/// <summary>
/// Generation over a <see cref="CausalLM"/>: KV cache, greedy or sampled decoding, eos stops, batches of
/// sequences of different lengths (left padding, per-row positions, padding masked), and shared prefixes
/// prefilled once and forked into N rows. Inputs may mix tokens with plugin embeddings (<see cref="SequenceInput"/>).
/// </summary>
public sealed class TextGenerator(CausalLM model)
{
    public CausalLM Model => model;

    public GenerationTimings LastTimings { get; private set; } = new(0, 0, 0, 0);

    public IReadOnlyList<Generation> Generate(IReadOnlyList<IReadOnlyList<int>> prompts, int maxNewTokens, SamplingOptions sampling, IReadOnlyCollection<int> eosIds) =>
        Generate(prompts.Select(SequenceInput.FromTokens).ToArray(), maxNewTokens, sampling, eosIds);

    /// <summary>
    /// Decides after each new token whether a row is done (e.g. a stop string appeared): called with the row index
    /// and the row's tokens so far; returns the finish reason, or null to go on.
    /// </summary>
    public delegate string? StopCheck(int row, IReadOnlyList<int> tokens);

    /// <summary>Generates a continuation for every sequence, batched; each row equals running it alone.</summary>
    public IReadOnlyList<Generation> Generate(IReadOnlyList<SequenceInput> prompts, int maxNewTokens, SamplingOptions sampling, IReadOnlyCollection<int> eosIds, StopCheck? stop = null)
    {
        sampling.Validate();
        if (prompts.Count == 0)
        {
            return [];
        }

        using var cache = model.NewCache(prompts.Count, prompts.Max(p => p.Length) + maxNewTokens);
        var clock = Stopwatch.StartNew();
        Tensor logits;
        using (var scope = NewDisposeScope())
        {
            logits = Prefill(cache, prompts, leftPad: true, lastOnly: true).MoveToOuterDisposeScope();   // [B, 1, V]
        }

        double prefill = clock.Elapsed.TotalSeconds;
        using (logits)
        {
            int rows = prompts.Max(p => p.PositionRows);
            return Decode(cache, logits, prompts.Select(p => p.NextPosition).ToArray(), rows, maxNewTokens, sampling, eosIds, stop, prompts.Sum(p => p.Length), prefill);
        }
    }

    public PrefixState Prefill(IReadOnlyList<int> prefix, int reserve = 256) => Prefill(SequenceInput.FromTokens(prefix), reserve);

    /// <summary>Prefills a shared prefix once (media + instruction) for later <see cref="Continue"/> calls.</summary>
    public PrefixState Prefill(SequenceInput prefix, int reserve = 256)
    {
        var cache = model.NewCache(1, prefix.Length + reserve);
        try
        {
            using var scope = NewDisposeScope();
            _ = Prefill(cache, [prefix], leftPad: true, lastOnly: true);
            return new PrefixState(cache, prefix.NextPosition, prefix.PositionRows);
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Forks the prefix into one row per continuation (non-empty token lists appended after the prefix, left-padded
    /// in the batch), then decodes every row. Each row equals generating prefix + continuation alone.
    /// </summary>
    // prefixLength: continue after only the first slots of the prefix (default: all of it). The dropped slots must be
    // the end of a text run (one position per token), as when a kept prefix ran a few tokens past what the new
    // continuations share.
    public IReadOnlyList<Generation> Continue(PrefixState prefix, IReadOnlyList<IReadOnlyList<int>> continuations, int maxNewTokens, SamplingOptions sampling, IReadOnlyCollection<int> eosIds, StopCheck? stop = null, int? prefixLength = null)
    {
        sampling.Validate();
        if (continuations.Any(c => c.Count == 0))
        {
            throw new JudgeHostException("A continuation is empty; give at least one token after the prefix.");
        }

        int batch = continuations.Count;
        int kept = prefixLength ?? prefix.Length;
        long start = prefix.NextPosition - (prefix.Length - kept);
        using var cache = prefix.Cache.Select(Enumerable.Repeat(0L, batch).ToArray(), continuations.Max(c => c.Count) + maxNewTokens, kept);
        var inputs = continuations.Select(c => new SequenceInput(
            [new SequenceSegment.Tokens(c)],
            arange(start, start + c.Count, dtype: ScalarType.Int64))).ToArray();
        var clock = Stopwatch.StartNew();
        Tensor last;
        using (var scope = NewDisposeScope())
        {
            // Left-padded after the prefix (padding may sit anywhere in the cache), so every row's last token is the
            // batch's last column and only that column goes through the LM head: [B, 1, V], not [B, W, V].
            last = Prefill(cache, inputs, leftPad: true, lastOnly: true).MoveToOuterDisposeScope();   // [B, 1, V]
            foreach (var input in inputs)
            {
                input.PositionIds!.Dispose();
            }
        }

        double prefill = clock.Elapsed.TotalSeconds;
        using (last)
        {
            var next = continuations.Select(c => start + c.Count).ToArray();
            return Decode(cache, last, next, prefix.PositionRows, maxNewTokens, sampling, eosIds, stop, continuations.Sum(c => c.Count), prefill);
        }
    }

    /// <summary>One prefix and the rows that continue it, for <see cref="ContinueMany"/>.</summary>
    /// <param name="Prefix">The prefilled prefix.</param>
    /// <param name="Continuations">Token runs appended after it (non-empty), one row each.</param>
    /// <param name="PrefixLength">Continue after only the first slots of the prefix (as in <see cref="Continue"/>); default all.</param>
    public sealed record PrefixRows(PrefixState Prefix, IReadOnlyList<IReadOnlyList<int>> Continuations, int? PrefixLength = null);

    /// <summary>
    /// Continues several prefixes in one batch: the prefixes sit right-aligned side by side in one cache (padding
    /// before the shorter ones), each forked into its rows; rows are returned group by group. Each row equals
    /// generating its prefix + continuation alone.
    /// </summary>
    public IReadOnlyList<Generation> ContinueMany(IReadOnlyList<PrefixRows> groups, int maxNewTokens, SamplingOptions sampling, IReadOnlyCollection<int> eosIds, StopCheck? stop = null)
    {
        sampling.Validate();
        if (groups.Count == 1)
        {
            return Continue(groups[0].Prefix, groups[0].Continuations, maxNewTokens, sampling, eosIds, stop, groups[0].PrefixLength);
        }

        if (groups.Any(g => g.Continuations.Count == 0 || g.Continuations.Any(c => c.Count == 0)))
        {
            throw new JudgeHostException("A continuation is empty; give at least one token after the prefix.");
        }

        var continuations = groups.SelectMany(g => g.Continuations).ToArray();
        var starts = groups.SelectMany(g =>
        {
            int kept = g.PrefixLength ?? g.Prefix.Length;
            long start = g.Prefix.NextPosition - (g.Prefix.Length - kept);
            return g.Continuations.Select(_ => start);
        }).ToArray();
        using var cache = KvCache.Stack([.. groups.Select(g => (g.Prefix.Cache, g.PrefixLength ?? g.Prefix.Length, g.Continuations.Count))], continuations.Max(c => c.Count) + maxNewTokens);
        var inputs = continuations.Select((c, b) => new SequenceInput(
            [new SequenceSegment.Tokens(c)],
            arange(starts[b], starts[b] + c.Count, dtype: ScalarType.Int64))).ToArray();
        var clock = Stopwatch.StartNew();
        Tensor last;
        using (var scope = NewDisposeScope())
        {
            last = Prefill(cache, inputs, leftPad: true, lastOnly: true).MoveToOuterDisposeScope();   // [B, 1, V]
            foreach (var input in inputs)
            {
                input.PositionIds!.Dispose();
            }
        }

        double prefill = clock.Elapsed.TotalSeconds;
        using (last)
        {
            var next = continuations.Select((c, b) => starts[b] + c.Count).ToArray();
            return Decode(cache, last, next, groups.Max(g => g.Prefix.PositionRows), maxNewTokens, sampling, eosIds, stop, continuations.Sum(c => c.Count), prefill);
        }
    }

    /// <summary>Logits of every position of one sequence <c>[T, V]</c> in float32 on the CPU (for parity checks).</summary>
    public Tensor AllLogits(IReadOnlyList<int> ids) => AllLogits(SequenceInput.FromTokens(ids));

    public Tensor AllLogits(SequenceInput input)
    {
        using var cache = model.NewCache(1, input.Length);
        using var scope = NewDisposeScope();
        var logits = Prefill(cache, [input], leftPad: true, lastOnly: false);                              // [1, T, V]
        return logits.squeeze(0).to(ScalarType.Float32).cpu().MoveToOuterDisposeScope();
    }

    // Builds the padded batch ([B, W, D] embeddings, [rows, B, W] positions, [B, W] validity) and runs it.
    private Tensor Prefill(KvCache cache, IReadOnlyList<SequenceInput> inputs, bool leftPad, bool lastOnly)
    {
        int batch = inputs.Count;
        int width = inputs.Max(i => i.Length);
        int rows = inputs.Max(i => i.PositionRows);
        var embeds = zeros([batch, width, model.Config.HiddenSize], model.DType, model.Device);
        var positions = zeros([rows, batch, width], ScalarType.Int64);
        var valid = zeros([batch, width], ScalarType.Bool);
        for (int b = 0; b < batch; b++)
        {
            var input = inputs[b];
            int offset = leftPad ? width - input.Length : 0;
            int at = offset;
            foreach (var segment in input.Segments)
            {
                var rowEmbeds = segment switch
                {
                    SequenceSegment.Tokens t => model.Embed(tensor(t.Ids.Select(i => (long)i).ToArray()).unsqueeze(0)).squeeze(0),   // [n, D]
                    SequenceSegment.Embeddings e => CheckedEmbeddings(e.Values),
                    _ => throw new InvalidOperationException($"Unknown segment {segment.GetType().Name}."),
                };
                embeds[b].narrow(0, at, segment.Length).copy_(rowEmbeds);
                at += segment.Length;
            }

            positions.select(1, b).narrow(1, offset, input.Length).copy_(input.Positions(rows));
            valid[b].narrow(0, offset, input.Length).fill_(true);
            if (!leftPad && input.Length < width)
            {
                // Right padding: give pad slots the last real position (they are masked; any finite value works).
                positions.select(1, b).narrow(1, input.Length, width - input.Length).copy_(positions.select(1, b).narrow(1, input.Length - 1, 1).expand(rows, width - input.Length));
            }
        }

        return model.Forward(embeds, rows == 1 ? positions.squeeze(0) : positions, valid, cache, lastOnly);
    }

    private Tensor CheckedEmbeddings(Tensor values)
    {
        if (values.dim() != 2 || values.shape[1] != model.Config.HiddenSize)
        {
            throw new InvalidOperationException($"External embeddings must be [n, {model.Config.HiddenSize}]; got [{string.Join(", ", values.shape)}].");
        }

        return values.to(model.DType, model.Device);
    }

    private IReadOnlyList<Generation> Decode(KvCache cache, Tensor firstLogits, long[] nextPosition, int rows, int maxNewTokens,
        SamplingOptions sampling, IReadOnlyCollection<int> eosIds, StopCheck? stop, int prefillTokens, double prefillSeconds)
    {
        int batch = nextPosition.Length;
        var outputs = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        var finish = new string?[batch];
        using var generator = sampling.Temperature > 0 ? new Generator((ulong)(sampling.Seed ?? Random.Shared.NextInt64()), CPU) : null;
        var eos = eosIds.ToHashSet();
        var logits = firstLogits.select(1, firstLogits.shape[1] - 1);                                     // [B, V]
        var clock = Stopwatch.StartNew();
        int decoded = 0;

        // A few rows on the CPU in bf16: the products run on .NET threads (ManagedLinear). libtorch's worker
        // threads would only spin against them between the small remaining ops, so they are parked for the loop.
        using var threads = model.UsesManagedLinear(batch) ? TorchThreads.Limit(1) : null;
        try
        {
            for (int step = 0; step < maxNewTokens; step++)
            {
                long[] tokens = Sampling.Next(logits, sampling, generator);
                for (int b = 0; b < batch; b++)
                {
                    if (finish[b] is not null)
                    {
                        continue;
                    }

                    outputs[b].Add((int)tokens[b]);
                    finish[b] = eos.Contains((int)tokens[b]) ? "stop" : stop?.Invoke(b, outputs[b]) ?? (outputs[b].Count == maxNewTokens ? "length" : null);
                }

                if (finish.All(f => f is not null))
                {
                    break;
                }

                // Finished rows keep stepping with their slot marked padding, so the batch stays rectangular.
                using var scope = NewDisposeScope();
                var ids = tensor(tokens).view(batch, 1);
                var valid = tensor(finish.Select(f => f is null).ToArray()).view(batch, 1);
                var positions = tensor(nextPosition).view(1, batch, 1).expand(rows, batch, 1);
                var embeds = model.Embed(ids);                                                              // [B, 1, D]
                var stepLogits = model.Forward(embeds, rows == 1 ? positions.squeeze(0) : positions, valid, cache, lastOnly: true);
                logits.Dispose();
                logits = stepLogits.select(1, 0).MoveToOuterDisposeScope();                                 // [B, V]
                decoded += finish.Count(f => f is null);
                for (int b = 0; b < batch; b++)
                {
                    nextPosition[b] += finish[b] is null ? 1 : 0;
                }
            }
        }
        finally
        {
            logits.Dispose();
        }

        LastTimings = new GenerationTimings(prefillTokens, prefillSeconds, decoded, clock.Elapsed.TotalSeconds);
        return outputs.Select((o, b) => new Generation(o, finish[b] ?? "length")).ToArray();
    }
}

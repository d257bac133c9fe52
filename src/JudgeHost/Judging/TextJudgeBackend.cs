using JudgeHost.Abstractions;
using JudgeHost.Backbone;

namespace JudgeHost.Judging;

/// <summary>
/// The judge backend over the backbone: renders each chat with the checkpoint's chat template, places media
/// embeddings from the modality plugins (when <paramref name="media"/> is given), prefills the part shared by
/// sibling prompts (system + media + instruction) once, forks it for every candidate order and sample, and decodes
/// them as one batch with stop strings. A media item a plugin rejects fails only the prompts that carry it.
/// </summary>
public sealed class TextJudgeBackend(TextGenerator generator, HfTokenizer tokenizer, ChatTemplate template, IReadOnlyCollection<int> eosIds, MediaEncoders? media = null) : IJudgeBackend
{
    private const int StopWindowTokens = 16;

    // The last prefilled prefix, kept across calls: a pipeline that judges the same prompt again in a later call
    // (a knockout round, a resumed vote) forks it instead of prefilling again. One entry; replaced when a group needs
    // another prefix. Key: the group (system, shared user text, media) and the token run the prefix ends with.
    private CachedPrefix? _cached;

    private sealed record CachedPrefix(string Group, int Head, int[] Tail, PrefixState State);

    /// <summary>How many shared prefixes this backend has prefilled (reused ones are not counted).</summary>
    internal int PrefixPrefills { get; private set; }

    public IReadOnlySet<string> Modalities { get; } = media?.Modalities ?? new HashSet<string>();

    public IReadOnlyList<GenerationOutput> Generate(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, CancellationToken cancellationToken = default)
    {
        var results = new GenerationOutput[prompts.Count];
        var sampling = new SamplingOptions(settings.Temperature, settings.TopP, 0, settings.Seed);
        var groups = new List<GroupPlan>();
        var prefilled = new List<CachedPrefix>();
        try
        {
            // Prompts that share system text, user prefix and media share a KV prefix: prefill it once, fork it for
            // the rest. Every group's rows then decode together in one batch (different prefixes side by side).
            foreach (var group in Enumerable.Range(0, prompts.Count).GroupBy(i => GroupKey(prompts[i])))
            {
                cancellationToken.ThrowIfCancellationRequested();
                int[] rows = [.. group];
                var encoded = new List<EncodedMedia>();
                try
                {
                    foreach (var item in prompts[rows[0]].Media)
                    {
                        encoded.Add(media?.Encode(item, cancellationToken)
                            ?? throw new InvalidMediaException($"{item.Describe()} cannot be judged by a text-only model. Use a multimodal checkpoint with its modality plugin, or remove the media."));
                    }

                    groups.Add(PlanGroup(group.Key, prompts, rows, encoded, prefilled));
                }
                catch (JudgeHostException e) when (e.IsUserError)
                {
                    foreach (int row in rows)
                    {
                        results[row] = new GenerationOutput("", 0, "error", 0, e.Message);
                    }
                }
                finally
                {
                    foreach (var e in encoded)
                    {
                        e.Dispose();
                    }
                }
            }

            if (groups.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Decode(groups, settings, sampling, results);
            }
        }
        finally
        {
            // Keep the last prefix prefilled by this call for later calls; free the others.
            if (prefilled.Count > 0)
            {
                if (_cached is { } old && !prefilled.Contains(old))
                {
                    old.State.Dispose();
                }

                _cached = prefilled[^1];
                foreach (var p in prefilled.Take(prefilled.Count - 1))
                {
                    p.State.Dispose();
                }
            }
        }

        return results;
    }

    // A group's prefix (kept or newly prefilled) and the token runs its rows continue it with.
    private sealed record GroupPlan(int[] Rows, CachedPrefix Prefix, int PrefixLength, IReadOnlyList<int>[] Continuations, int[] PromptTokens);

    // A media file's size and write time are part of the key, so a kept prefix never outlives a changed file.
    private static string GroupKey(JudgePrompt p) =>
        string.Join("\u0001", [p.System, p.User[..p.SharedPrefixLength], .. p.Media.Select(m => $"{m.Modality}:{m.Path}:{FileStamp(m.Path)}:{m.Value}:{string.Join(",", m.Attributes.Select(a => a.Key + "=" + a.Value))}")]);

    private static string FileStamp(string? path)
    {
        var info = path is null ? null : new FileInfo(path);
        return info is { Exists: true } ? $"{info.Length}@{info.LastWriteTimeUtc.Ticks}" : "";
    }

    private GroupPlan PlanGroup(string group, IReadOnlyList<JudgePrompt> prompts, int[] rows, List<EncodedMedia> encoded, List<CachedPrefix> prefilled)
    {
        // Every row: the segments before the last media item are identical; only the final token run differs.
        var inputs = rows.Select(i => Sequence(prompts[i], encoded)).ToArray();
        try
        {
            var finals = inputs.Select(s => ((SequenceSegment.Tokens)s.Segments[^1]).Ids.ToArray()).ToArray();
            int head = inputs[0].Length - finals[0].Length;
            int[] promptTokens = inputs.Select(s => s.Length).ToArray();
            int common = CommonPrefix(finals);
            var (prefix, shared) = ReusablePrefix(group, head, finals, common);
            if (prefix is null)
            {
                var prefixSegments = inputs[0].Segments.Take(inputs[0].Segments.Count - 1).Append(new SequenceSegment.Tokens(finals[0][..common])).ToArray();
                using var prefixPositions = inputs[0].PositionIds?.narrow(-1, 0, head + common).clone();
                prefix = new CachedPrefix(group, head, finals[0][..common], generator.Prefill(new SequenceInput(prefixSegments, prefixPositions), reserve: 0));
                PrefixPrefills++;
                prefilled.Add(prefix);
                shared = common;
            }

            return new GroupPlan(rows, prefix, head + shared, [.. finals.Select(f => (IReadOnlyList<int>)f[shared..])], promptTokens);
        }
        finally
        {
            foreach (var input in inputs)
            {
                input.PositionIds?.Dispose();
            }
        }
    }

    private void Decode(List<GroupPlan> groups, GenerationSettings settings, SamplingOptions sampling, GenerationOutput[] results)
    {
        int[] rowOf = [.. groups.SelectMany(g => g.Rows)];
        int[] promptTokens = [.. groups.SelectMany(g => g.PromptTokens)];
        string?[] stopHit = new string?[rowOf.Length];
        string? Stop(int row, IReadOnlyList<int> generated)
        {
            if (settings.StopStrings.Count == 0)
            {
                return null;
            }

            string tail = tokenizer.Decode(generated.Skip(Math.Max(0, generated.Count - StopWindowTokens)));
            stopHit[row] = settings.StopStrings.FirstOrDefault(s => tail.Contains(s, StringComparison.Ordinal));
            return stopHit[row] is null ? null : "stop_string";
        }

        var outputs = generator.ContinueMany([.. groups.Select(g => new TextGenerator.PrefixRows(g.Prefix.State, g.Continuations, g.PrefixLength))],
            settings.MaxNewTokens, sampling, eosIds, Stop);
        for (int k = 0; k < rowOf.Length; k++)
        {
            var o = outputs[k];
            var ids = o.FinishReason == "stop" ? o.Tokens.Take(o.Tokens.Count - 1) : o.Tokens;   // drop the eos token itself
            string text = tokenizer.Decode(ids);
            string stoppedBy = o.FinishReason switch { "stop" => "eos", "length" => "length", _ => stopHit[k]! };
            if (stopHit[k] is { } s)
            {
                int at = text.IndexOf(s, StringComparison.Ordinal);
                text = at >= 0 ? text[..(at + s.Length)] : text;
            }

            results[rowOf[k]] = new GenerationOutput(text, o.Tokens.Count, stoppedBy, promptTokens[k]);
        }
    }

    // The rendered chat as a sequence: text tokens, and media embeddings framed as the family expects.
    private SequenceInput Sequence(JudgePrompt prompt, IReadOnlyList<EncodedMedia> encoded)
    {
        // An empty system prompt (a policy chat without one) is left out, so the template applies its own default.
        ChatMessage[] chat = prompt.System.Length == 0
            ? [new ChatMessage("user", prompt.User)]
            : [new ChatMessage("system", prompt.System), new ChatMessage("user", prompt.User)];
        string text = template.Render(chat, addGenerationPrompt: true) + prompt.AssistantPrefix;
        // A family with a placeholder token (Mol-LLaMA's <mol>) goes through the splicer even without media, which
        // refuses the token where no media item put it.
        if (encoded.Count == 0 && media?.Placeholder is null)
        {
            return SequenceInput.FromTokens([.. tokenizer.Encode(text, addSpecialTokens: false)]);
        }

        var input = media!.Splice(text, prompt.Media, encoded, tokenizer);
        return input.Segments[^1] is SequenceSegment.Tokens { Ids.Count: > 1 }
            ? input
            : throw new InvalidOperationException("A judge prompt must end with text after its last media item.");
    }

    // The kept prefix serves a group with the same media head when the tokens it ends with start every row's final
    // token run for nearly as long as the rows share among themselves (a knockout round: same question, other
    // candidates). It is then used up to that shared length; at least one token is left for each row.
    private (CachedPrefix? Prefix, int Shared) ReusablePrefix(string group, int head, int[][] finals, int common)
    {
        const int Slack = 8;
        if (_cached is not { } c || c.Group != group || c.Head != head)
        {
            return (null, 0);
        }

        int shared = c.Tail.Length;
        foreach (var f in finals)
        {
            int n = 0;
            int limit = Math.Min(shared, f.Length - 1);
            while (n < limit && f[n] == c.Tail[n])
            {
                n++;
            }

            shared = n;
        }

        return shared >= 1 && shared >= common - Slack ? (c, shared) : (null, 0);
    }

    // Longest common token prefix, leaving at least one token for every row to continue from.
    private static int CommonPrefix(int[][] sequences)
    {
        int limit = sequences.Min(s => s.Length) - 1;
        int n = 0;
        while (n < limit && sequences.All(s => s[n] == sequences[0][n]))
        {
            n++;
        }

        return Math.Max(n, 1);
    }
}

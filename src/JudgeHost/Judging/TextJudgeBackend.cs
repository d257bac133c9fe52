using JudgeHost.Abstractions;
using JudgeHost.Backbone;

namespace JudgeHost.Judging;

/// <summary>
/// The judge backend over the text backbone: renders each chat with the checkpoint's chat template, tokenizes,
/// prefills the part shared by sibling prompts (system + media + instruction) once, forks it for every candidate
/// order and sample, and decodes them as one batch with stop strings. Media need a modality model (issue #6);
/// here they are refused per request.
/// </summary>
public sealed class TextJudgeBackend(TextGenerator generator, HfTokenizer tokenizer, ChatTemplate template, IReadOnlyCollection<int> eosIds) : IJudgeBackend
{
    private const int StopWindowTokens = 16;

    public IReadOnlySet<string> Modalities { get; } = new HashSet<string>();

    public IReadOnlyList<GenerationOutput> Generate(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, CancellationToken cancellationToken = default)
    {
        if (prompts.FirstOrDefault(p => p.Media.Count > 0) is { } withMedia)
        {
            throw new InvalidMediaException(
                $"{withMedia.Media[0].Describe()} cannot be judged by a text-only model. Use a multimodal checkpoint with its modality plugin, or remove the media.");
        }

        var tokens = prompts.Select(Tokenize).ToArray();
        var results = new GenerationOutput[prompts.Count];
        var sampling = new SamplingOptions(settings.Temperature, settings.TopP, 0, settings.Seed);

        // Prompts that share system text and user prefix share a KV prefix: prefill it once, fork for the rest.
        foreach (var group in Enumerable.Range(0, prompts.Count).GroupBy(i => (prompts[i].System, prompts[i].User[..prompts[i].SharedPrefixLength])))
        {
            cancellationToken.ThrowIfCancellationRequested();
            int[] rows = [.. group];
            int common = CommonPrefix(rows.Select(i => tokens[i]).ToArray());
            var continuations = rows.Select(i => (IReadOnlyList<int>)tokens[i][common..]).ToArray();
            string?[] stopHit = new string?[rows.Length];
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

            using var prefix = generator.Prefill(tokens[rows[0]][..common], reserve: continuations.Max(c => c.Count) + settings.MaxNewTokens);
            var outputs = generator.Continue(prefix, continuations, settings.MaxNewTokens, sampling, eosIds, Stop);
            for (int k = 0; k < rows.Length; k++)
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

                results[rows[k]] = new GenerationOutput(text, o.Tokens.Count, stoppedBy, tokens[rows[k]].Length);
            }
        }

        return results;
    }

    private int[] Tokenize(JudgePrompt prompt)
    {
        string text = template.Render([new ChatMessage("system", prompt.System), new ChatMessage("user", prompt.User)], addGenerationPrompt: true) + prompt.AssistantPrefix;
        return [.. tokenizer.Encode(text, addSpecialTokens: false)];
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

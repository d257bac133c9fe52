namespace JudgeHost.Judging;

/// <summary>
/// Thinking-budget control (s1 "budget forcing"): when the judge closes its reasoning before
/// <see cref="MinThinkingTokens"/>, the <c>&lt;/think&gt;</c> is removed, <see cref="WaitText"/> is appended and
/// generation continues (at most <see cref="MaxWaits"/> times); when the reasoning reaches
/// <see cref="MaxThinkingTokens"/> without closing, it is cut and <see cref="ForcedClose"/> is appended so the
/// judge must answer. 0 disables either bound.
/// </summary>
public sealed record BudgetForcing(int MinThinkingTokens = 0, int MaxThinkingTokens = 0, int MaxWaits = 2, string WaitText = "Wait", string ForcedClose = "\n</think>\n<answer>")
{
    public static BudgetForcing Off { get; } = new();

    public bool Enabled => MinThinkingTokens > 0 || MaxThinkingTokens > 0;
}

/// <summary>The text of one judge sample and how it was produced.</summary>
/// <param name="Text">Full assistant text (prefill included).</param>
/// <param name="Tokens">Generated tokens over all rounds.</param>
/// <param name="Truncated">The last round stopped at its token limit.</param>
/// <param name="Waits">Times "Wait" was appended.</param>
/// <param name="ForcedAnswer">The reasoning was cut at the maximum budget.</param>
/// <param name="PromptTokens">Prompt tokens of the first round.</param>
/// <param name="Error">Why the prompt could not be run; null when it ran.</param>
public sealed record SampleText(string Text, int Tokens, bool Truncated, int Waits, bool ForcedAnswer, int PromptTokens = 0, string? Error = null);

/// <summary>Runs generation rounds with budget forcing over any backend.</summary>
public static class BudgetForcedGeneration
{
    private const string ThinkClose = "</think>";

    /// <summary>Generates one assistant text per prompt, applying <paramref name="budget"/>.</summary>
    public static IReadOnlyList<SampleText> Run(IJudgeBackend backend, IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, BudgetForcing budget, CancellationToken ct = default)
    {
        if (!budget.Enabled)
        {
            return backend.Generate(prompts, settings, ct)
                .Select((o, i) => new SampleText(prompts[i].AssistantPrefix + o.Text, o.Tokens, o.Truncated, 0, false, o.PromptTokens, o.Error)).ToArray();
        }

        int n = prompts.Count;
        var text = prompts.Select(p => p.AssistantPrefix).ToArray();
        var tokens = new int[n];
        var waits = new int[n];
        var forced = new bool[n];
        var done = new bool[n];
        var truncated = new bool[n];
        var needsAnswer = new bool[n];
        var promptTokens = new int[n];
        var errors = new string?[n];

        // Reasoning rounds: stop at </think>, then decide per sample whether to wait, force, or go on to the answer.
        while (done.Any(d => !d))
        {
            var active = Enumerable.Range(0, n).Where(i => !done[i]).ToArray();
            int limit = budget.MaxThinkingTokens > 0
                ? Math.Max(1, active.Min(i => budget.MaxThinkingTokens - tokens[i]))
                : settings.MaxNewTokens;
            var outputs = backend.Generate(active.Select(i => prompts[i] with { AssistantPrefix = text[i] }).ToArray(),
                settings with { MaxNewTokens = limit, StopStrings = [.. settings.StopStrings, ThinkClose] }, ct);
            for (int k = 0; k < active.Length; k++)
            {
                int i = active[k];
                var o = outputs[k];
                if (o.Error is not null)
                {
                    errors[i] = o.Error;
                    done[i] = true;
                    continue;
                }

                promptTokens[i] = promptTokens[i] == 0 ? o.PromptTokens : promptTokens[i];
                tokens[i] += o.Tokens;
                bool closed = o.StoppedBy == ThinkClose;
                if (closed && tokens[i] < budget.MinThinkingTokens && waits[i] < budget.MaxWaits)
                {
                    text[i] += o.Text[..o.Text.LastIndexOf(ThinkClose, StringComparison.Ordinal)] + budget.WaitText;
                    waits[i]++;
                    continue;
                }

                text[i] += o.Text;
                if (closed)
                {
                    done[i] = needsAnswer[i] = true;
                }
                else if (budget.MaxThinkingTokens > 0 && tokens[i] >= budget.MaxThinkingTokens)
                {
                    text[i] += budget.ForcedClose;
                    forced[i] = done[i] = needsAnswer[i] = true;
                }
                else if (o.StoppedBy != "length" || tokens[i] >= settings.MaxNewTokens)
                {
                    // eos or another stop string without </think>, or out of total budget: nothing more to generate.
                    done[i] = true;
                    truncated[i] = o.Truncated;
                }
            }
        }

        // Answer round for every sample whose reasoning closed (or was forced closed).
        var answering = Enumerable.Range(0, n).Where(i => needsAnswer[i]).ToArray();
        if (answering.Length > 0)
        {
            int remaining = Math.Max(1, settings.MaxNewTokens - answering.Min(i => tokens[i]));
            var outputs = backend.Generate(answering.Select(i => prompts[i] with { AssistantPrefix = text[i] }).ToArray(), settings with { MaxNewTokens = remaining }, ct);
            for (int k = 0; k < answering.Length; k++)
            {
                int i = answering[k];
                text[i] += outputs[k].Text;
                tokens[i] += outputs[k].Tokens;
                truncated[i] = outputs[k].Truncated;
            }
        }

        return Enumerable.Range(0, n).Select(i => new SampleText(text[i], tokens[i], truncated[i], waits[i], forced[i], promptTokens[i], errors[i])).ToArray();
    }
}

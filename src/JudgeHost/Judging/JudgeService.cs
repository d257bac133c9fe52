using System.Diagnostics;
using System.Globalization;
using JudgeHost.Abstractions;

namespace JudgeHost.Judging;

/// <summary>
/// Turns requests into judgments over any <see cref="IJudgeBackend"/>: renders the prompts (shared prefix first),
/// generates every sample of every request in one batch (both pair orders, k votes, budget forcing), parses each
/// output and aggregates. A request that cannot be judged becomes an error result; the others are unaffected.
/// </summary>
public sealed class JudgeService(IJudgeBackend backend, JudgeOptions options)
{
    public JudgeOptions Options => options;

    public IReadOnlyList<JudgeResult> Judge(IReadOnlyList<JudgeRequest> requests, CancellationToken ct = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var plans = new List<Plan>();
        var results = new JudgeResult?[requests.Count];
        for (int r = 0; r < requests.Count; r++)
        {
            try
            {
                plans.AddRange(PlanRequest(r, requests[r]));
            }
            catch (JudgeHostException e)
            {
                results[r] = JudgeResult.Failed(requests[r].Id, TaskName(requests[r].Task), e.Message);
            }
        }

        IReadOnlyList<SampleText> texts = [];
        if (plans.Count > 0)
        {
            var settings = new GenerationSettings(options.MaxNewTokens, options.Temperature, options.TopP, options.Seed, []);
            texts = BudgetForcedGeneration.Run(backend, plans.Select(p => p.Prompt).ToArray(), settings, options.Budget, ct);
        }

        double perRequestMs = clock.Elapsed.TotalMilliseconds / Math.Max(1, requests.Count);
        foreach (var group in plans.Select((p, i) => (Plan: p, Text: texts[i])).GroupBy(x => x.Plan.Request))
        {
            results[group.Key] = Aggregate(requests[group.Key], group.Select(g => (g.Plan, g.Text)).ToList()) with { ElapsedMs = perRequestMs };
        }

        return results.Select((r, i) => r ?? JudgeResult.Failed(requests[i].Id, TaskName(requests[i].Task), "no samples were planned")).ToArray();
    }

    private sealed record Plan(int Request, string Order, int Sample, JudgePrompt Prompt, AnswerFormat Format);

    private IEnumerable<Plan> PlanRequest(int index, JudgeRequest request)
    {
        int n = request.Candidates.Count;
        (bool ok, string need) = request.Task switch
        {
            JudgeTask.Pointwise => (n <= 1, "0 or 1 candidates (none: the media item itself is scored)"),
            JudgeTask.Pairwise => (n == 2, "exactly 2 candidates"),
            JudgeTask.Ranking => (n is >= 2 and <= 26, "2 to 26 candidates"),
            JudgeTask.Binary => (n <= 1, "0 or 1 candidates"),
            _ => (false, "a known task"),
        };
        if (!ok)
        {
            throw new JudgeHostException($"Request '{request.Id}': a {TaskName(request.Task)} request needs {need}; it has {n}.");
        }

        if (string.IsNullOrWhiteSpace(request.Instruction))
        {
            throw new JudgeHostException($"Request '{request.Id}' has an empty instruction.");
        }

        if (request.Task == JudgeTask.Binary && string.IsNullOrWhiteSpace(request.Aspect))
        {
            throw new JudgeHostException($"Request '{request.Id}': a binary request needs an aspect (e.g. \"naturalness\", \"safety\").");
        }

        if (request.Media.FirstOrDefault(m => !backend.Modalities.Contains(m.Modality)) is { } unsupported)
        {
            throw new InvalidMediaException(
                $"Request '{request.Id}': this model cannot take {unsupported.Modality} input ({unsupported.Path ?? unsupported.Value}). Use a checkpoint whose family has a {unsupported.Modality} plugin, or drop the item.");
        }

        var template = TemplateFor(request.Template ?? TaskName(request.Task), request.Id);
        var scale = request.Scale ?? template.Scale ?? new ScoreScale(1, request.Task == JudgeTask.Pointwise ? 5 : 10);
        if (!(scale.Min < scale.Max))
        {
            throw new JudgeHostException($"Request '{request.Id}': scale min {scale.Min} must be below max {scale.Max}.");
        }

        var format = FormatFor(template, request.Task, scale, n);
        // Molecules written into the question as <mol> stay there (Mol-LLaMA prompts); the rest go to {media}.
        var (instruction, media) = MediaPlacement.Place(request.Instruction, request.Media.Select(m => m.Modality).ToArray(), $"Request '{request.Id}'", "\n\n");
        var values = new PromptValues(media, instruction, request.EffectiveCriteria,
            scale.Min.ToString(CultureInfo.InvariantCulture), scale.Max.ToString(CultureInfo.InvariantCulture), request.Aspect, request.Reference);
        var items = request.Media.Select(m => new MediaItem(m.Modality, m.Path, m.Value, m.Attributes ?? new Dictionary<string, string>())).ToArray();
        var orders = request.Task == JudgeTask.Pairwise && options.BothOrders
            ? new[] { ("AB", request.Candidates), ("BA", (IReadOnlyList<string>)[request.Candidates[1], request.Candidates[0]]) }
            : [("AB", request.Candidates)];
        string prefill = template.AssistantPrefix ?? (options.PrefillThink ? "<think>\n" : "");
        foreach (var (order, given) in orders)
        {
            // The PAMPA judge scores the reasoning only: each candidate is cut before its final answer.
            var candidates = template.TruncateAtFinalAnswer ? given.Select(FinalAnswer.Truncate).ToArray() : given;
            var rendered = template.Render(values, candidates);
            var prompt = new JudgePrompt(rendered.System, rendered.User, prefill, items, rendered.UserPrefix.Length);
            for (int k = 0; k < options.Samples; k++)
            {
                yield return new Plan(index, order, k, prompt, format);
            }
        }
    }

    private JudgeResult Aggregate(JudgeRequest request, List<(Plan Plan, SampleText Text)> samples)
    {
        if (samples.FirstOrDefault(s => s.Text.Error is not null) is { Text.Error: { } error })
        {
            return JudgeResult.Failed(request.Id, TaskName(request.Task), $"Request '{request.Id}': {error}");
        }

        var records = new List<SampleRecord>();
        var byOrder = new Dictionary<string, List<Verdict>>();
        foreach (var (plan, text) in samples)
        {
            var verdict = VerdictParser.Parse(text.Text, plan.Format, text.Truncated);
            if (plan.Order == "BA")
            {
                verdict = Aggregation.Unswap(verdict);
            }

            records.Add(new SampleRecord(plan.Order, plan.Sample, text.Text, VerdictDto.From(verdict), text.Tokens, text.Truncated, text.Waits, text.ForcedAnswer));
            (byOrder.TryGetValue(plan.Order, out var list) ? list : byOrder[plan.Order] = []).Add(verdict);
        }

        Verdict final;
        bool? agree = null;
        if (byOrder.TryGetValue("BA", out var swapped))
        {
            (final, agree) = Aggregation.BothOrders(Aggregation.Vote(byOrder["AB"]), Aggregation.Vote(swapped), options.Disagreement);
        }
        else
        {
            final = Aggregation.Vote(byOrder["AB"]);
        }

        return new JudgeResult
        {
            Id = request.Id,
            Task = TaskName(request.Task),
            Status = final.IsParsed ? "ok" : "unparsed",
            Verdict = VerdictDto.From(final),
            OrdersAgree = agree,
            Samples = records,
            UnparsedSamples = records.Count(r => r.Verdict.Kind == "unparsed"),
            PromptTokens = samples.Sum(s => s.Text.PromptTokens),
            GeneratedTokens = records.Sum(r => r.Tokens),
            Label = request.Label,
        };
    }

    private JudgeTemplate TemplateFor(string name, string requestId)
    {
        if (options.TemplateDirectory is { } dir)
        {
            string path = Path.Combine(dir, name + ".json");
            if (File.Exists(path))
            {
                return JudgeTemplate.Load(path);
            }
        }

        return DefaultTemplates.Named.TryGetValue(name, out var template)
            ? template
            : throw new JudgeHostException($"Request '{requestId}' asks for template '{name}', which is neither built in ({string.Join(", ", DefaultTemplates.Named.Keys)}) nor a file in the template folder.");
    }

    private static AnswerFormat FormatFor(JudgeTemplate template, JudgeTask task, ScoreScale scale, int candidates) => (task, template.Answer) switch
    {
        (JudgeTask.Pointwise, "score") => AnswerFormat.Pointwise(scale.Min, scale.Max),
        (JudgeTask.Pairwise, "pair_scores") => AnswerFormat.PairScores(scale.Min, scale.Max),
        (JudgeTask.Pairwise, "pair_brackets") => AnswerFormat.PairBrackets,
        (JudgeTask.Ranking, "ranking_scores") => AnswerFormat.RankingScores(candidates, scale.Min, scale.Max),
        (JudgeTask.Ranking, "ranking_letters") => AnswerFormat.RankingLetters(candidates),
        (JudgeTask.Binary, "yes_no") => AnswerFormat.YesNo,
        _ => throw new JudgeHostException($"The {TaskName(task)} template declares answer format '{template.Answer}', which does not fit that task (see README: answer formats)."),
    };

    public static string TaskName(JudgeTask task) => task.ToString().ToLowerInvariant();
}

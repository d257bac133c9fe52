using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Judging;

namespace JudgeHost.Pipelines;

/// <summary>How candidates are sampled from the policy.</summary>
public sealed class PolicyOptions
{
    /// <summary>Candidates per prompt (N).</summary>
    public int Count { get; set; } = 4;

    /// <summary>Candidate i is sampled at <c>Temperatures[i % Temperatures.Count]</c>.</summary>
    public IReadOnlyList<float> Temperatures { get; set; } = [0.8f];

    public float TopP { get; set; } = 1f;

    public int MaxNewTokens { get; set; } = 512;

    public long Seed { get; set; }

    public void Validate()
    {
        var problems = new List<string>();
        if (Count < 1)
        {
            problems.Add($"--num-candidates is {Count}; use 1 or more");
        }

        if (Temperatures.Count == 0 || Temperatures.Any(t => !(t > 0) || !float.IsFinite(t)))
        {
            problems.Add($"temperatures [{string.Join(", ", Temperatures)}] must be positive numbers (sampling, not greedy: greedy repeats one answer N times)");
        }

        if (TopP is <= 0 or > 1)
        {
            problems.Add($"top-p {TopP} must be in (0, 1]");
        }

        if (MaxNewTokens < 1)
        {
            problems.Add("policy max new tokens must be positive");
        }

        if (problems.Count > 0)
        {
            throw new JudgeHostException($"Invalid policy sampling settings: {string.Join("; ", problems)}.");
        }
    }
}

/// <summary>Produces candidates for a prompt that has none.</summary>
public interface ICandidateSampler
{
    IReadOnlyList<Candidate> Sample(PromptItem item, CancellationToken ct);
}

/// <summary>
/// Samples N candidates per prompt from a policy model: the policy's chat (its system prompt, the media, the
/// question) is prefilled once per temperature and forked into that temperature's rows (the backend shares the
/// prefix). Seeds derive from the run seed, the prompt id and the temperature, so a prompt re-run after a crash
/// gets the same candidates.
/// </summary>
public sealed class PolicySampler(IJudgeBackend policy, PolicyOptions options) : ICandidateSampler
{
    public IReadOnlyList<Candidate> Sample(PromptItem item, CancellationToken ct)
    {
        options.Validate();
        var (question, rest) = MediaPlacement.Place(item.Question, item.Media.Select(m => m.Modality).ToArray(), $"Prompt '{item.Id}'", "\n");
        string user = rest + question;
        var media = item.Media.Select(m => new MediaItem(m.Modality, m.Path, m.Value, m.Attributes ?? new Dictionary<string, string>())).ToArray();
        var prompt = new JudgePrompt(item.PolicySystem ?? "", user, "", media, user.Length);
        var candidates = new Candidate?[options.Count];
        var temperatures = options.Temperatures;
        for (int t = 0; t < temperatures.Count; t++)
        {
            int[] rows = Enumerable.Range(0, options.Count).Where(i => i % temperatures.Count == t).ToArray();
            if (rows.Length == 0)
            {
                continue;
            }

            long seed = unchecked(options.Seed + (long)StableHash.Of($"{item.Id}:{t}"));
            var settings = new GenerationSettings(options.MaxNewTokens, temperatures[t], options.TopP, seed, []);
            var outputs = policy.Generate(rows.Select(_ => prompt).ToArray(), settings, ct);
            if (outputs.FirstOrDefault(o => o.Error is not null) is { Error: { } error })
            {
                throw new JudgeHostException($"Prompt '{item.Id}': the policy could not sample candidates: {error}");
            }

            for (int k = 0; k < rows.Length; k++)
            {
                candidates[rows[k]] = new Candidate(rows[k], outputs[k].Text, "policy", temperatures[t], outputs[k].Tokens, outputs[k].StoppedBy);
            }
        }

        return candidates.Select(c => c!).ToArray();
    }
}

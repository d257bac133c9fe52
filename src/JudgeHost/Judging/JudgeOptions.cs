namespace JudgeHost.Judging;

/// <summary>How judgments are made. Bound from the <c>Judge</c> section; the CLI overrides per run.</summary>
public sealed class JudgeOptions
{
    public const string Section = "Judge";

    /// <summary>Samples per prompt for majority voting (k).</summary>
    public int Samples { get; set; } = 1;

    /// <summary>0 = greedy.</summary>
    public float Temperature { get; set; }

    public float TopP { get; set; } = 1f;

    public long Seed { get; set; }

    public int MaxNewTokens { get; set; } = 1024;

    /// <summary>Judge pairwise requests in both orders.</summary>
    public bool BothOrders { get; set; } = true;

    public DisagreementPolicy Disagreement { get; set; } = DisagreementPolicy.Tie;

    /// <summary>Start the assistant turn with "&lt;think&gt;\n" (the training format of the Flex-Judge data).</summary>
    public bool PrefillThink { get; set; }

    public int MinThinkingTokens { get; set; }

    public int MaxThinkingTokens { get; set; }

    public int MaxWaits { get; set; } = 2;

    /// <summary>Folder with user templates named pointwise.json, pairwise.json, ranking.json, binary.json (any subset).</summary>
    public string? TemplateDirectory { get; set; }

    public BudgetForcing Budget => new(MinThinkingTokens, MaxThinkingTokens, MaxWaits);

    public void Validate()
    {
        var problems = new List<string>();
        if (Samples < 1)
        {
            problems.Add($"samples is {Samples}; use 1 or more");
        }

        if (Temperature < 0)
        {
            problems.Add($"temperature is {Temperature}; use 0 (greedy) or more");
        }

        if (Samples > 1 && Temperature == 0)
        {
            problems.Add($"{Samples} samples with temperature 0 would repeat one greedy answer; set a temperature for voting");
        }

        if (MaxNewTokens < 1)
        {
            problems.Add("max new tokens must be positive");
        }

        if (MaxThinkingTokens > 0 && MinThinkingTokens > MaxThinkingTokens)
        {
            problems.Add($"min thinking tokens {MinThinkingTokens} exceed max thinking tokens {MaxThinkingTokens}");
        }

        if (problems.Count > 0)
        {
            throw new JudgeHost.Abstractions.JudgeHostException($"Invalid judge settings: {string.Join("; ", problems)}.");
        }
    }
}

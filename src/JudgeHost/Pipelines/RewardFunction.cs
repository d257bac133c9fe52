using System.Globalization;
using JudgeHost.Judging;

namespace JudgeHost.Pipelines;

/// <summary>The three parts of a reward: overall = (1 − α)·accuracy + α·format.</summary>
public sealed record Reward(double Overall, double Format, double Accuracy, string? Reason);

/// <summary>
/// The MT-RL-Judge / EasyR1 reward for RL on judge outputs: R = (1 − α)·R_acc + α·R_format. R_format is 1 when the
/// whole response is one reasoning block followed by answer tags and nothing else (EasyR1 r1v fullmatch);
/// R_acc is 1 when the parsed verdict equals the label (pairwise: A/B/tie; binary: yes/no; ranking: the letter
/// order; pointwise: the score numerically equal to the label, as an exact-match reward is). An unparseable verdict scores 0.
/// </summary>
public static class RewardFunction
{
    public const double DefaultAlpha = 0.5;

    public static Reward Compute(string response, string label, AnswerFormat format, double alpha = DefaultAlpha)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(alpha, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alpha, 1);
        double formatReward = VerdictParser.IsWellFormatted(response) ? 1 : 0;
        var verdict = VerdictParser.Parse(response, format);
        (double accuracy, string? reason) = verdict switch
        {
            Verdict.Unparsed u => (0, u.Reason),
            _ => Matches(verdict, label.Trim()) ? (1.0, (string?)null) : (0.0, $"verdict {Describe(verdict)} differs from label '{label}'"),
        };
        return new Reward(((1 - alpha) * accuracy) + (alpha * formatReward), formatReward, accuracy, reason);
    }

    private static bool Matches(Verdict verdict, string label) => verdict switch
    {
        Verdict.Pair p => string.Equals(Describe(p), NormalizePairLabel(label), StringComparison.OrdinalIgnoreCase),
        Verdict.Binary b => string.Equals(b.Yes ? "yes" : "no", label, StringComparison.OrdinalIgnoreCase),
        Verdict.Ranking r => string.Equals(r.Letters, string.Concat(label.Where(char.IsLetter)), StringComparison.OrdinalIgnoreCase),
        Verdict.Score s => double.TryParse(label, NumberStyles.Float, CultureInfo.InvariantCulture, out double gold)
            && s.Value == gold,
        _ => false,
    };

    private static string NormalizePairLabel(string label) => label.ToUpperInvariant() switch
    {
        "C" or "TIE" or "=" => "tie",
        var other => other,
    };

    private static string Describe(Verdict verdict) => verdict switch
    {
        Verdict.Pair p => p.Outcome switch { PairOutcome.A => "A", PairOutcome.B => "B", PairOutcome.Tie => "tie", _ => "both_bad" },
        Verdict.Binary b => b.Yes ? "yes" : "no",
        Verdict.Ranking r => r.Letters,
        Verdict.Score s => s.Value.ToString(CultureInfo.InvariantCulture),
        _ => "unparsed",
    };
}

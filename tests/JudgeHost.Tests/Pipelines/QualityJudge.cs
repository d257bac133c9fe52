using System.Globalization;
using System.Text.RegularExpressions;
using JudgeHost.Judging;
using JudgeHost.Tests.Judging;

namespace JudgeHost.Tests.Pipelines;

/// <summary>
/// Scripted judges for pipeline tests. A candidate's quality is written in its text as <c>q=N</c> (the last one
/// counts); an honest judge answers every prompt (pointwise, pairwise, ranking) with those qualities as scores, so
/// the right choice is known. A candidate without <c>q=</c> makes the judge answer without tags (unparsed).
/// </summary>
public static partial class QualityJudge
{
    /// <summary>Answers with each shown candidate's quality, in the order shown.</summary>
    public static ScriptedBackend Honest() => new(p => Answer(Candidates(p).Select(Quality).ToList()));

    /// <summary>Always prefers whatever is shown first (pairwise), whatever the candidates are.</summary>
    public static ScriptedBackend PositionBiased() => new(_ => "<think>the first one</think><answer>8</answer><answer>3</answer>");

    public static IReadOnlyList<string> Candidates(JudgePrompt prompt) =>
        [.. AnswerBlock().Matches(prompt.User).Select(m => m.Groups[1].Value)];

    public static int? Quality(string text) =>
        QualityTag().Matches(text) is { Count: > 0 } m ? int.Parse(m[^1].Groups[1].Value, CultureInfo.InvariantCulture) : null;

    private static string Answer(List<int?> scores) => scores.Any(s => s is null)
        ? "<think>I cannot tell</think>no verdict"
        : "<think>compared</think>" + string.Concat(scores.Select(s => $"<answer>{s}</answer>"));

    [GeneratedRegex(@"\[Assistant(?: \d+)?'s Answer\]\n(.*?)(?=\n\n\[Assistant|\z)", RegexOptions.Singleline)]
    private static partial Regex AnswerBlock();

    [GeneratedRegex(@"q=(\d+)")]
    private static partial Regex QualityTag();
}

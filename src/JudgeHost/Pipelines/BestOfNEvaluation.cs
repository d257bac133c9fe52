using System.Globalization;
using System.Text;
using System.Text.Json;

namespace JudgeHost.Pipelines;

/// <summary>
/// How much a best-of-N selection raises the accuracy of a candidate pool whose correct candidates are known
/// (the prompt's <c>label</c>: the indices of the correct candidates, e.g. <c>[0, 2]</c>). Before: the expected
/// accuracy of picking a candidate at random (the pool's share of correct candidates, averaged over prompts) and of
/// always taking the first. After: the accuracy of the judge's choice. Oracle: prompts with at least one correct
/// candidate (the ceiling). A prompt with no choice (<c>no_choice</c>) or an error counts as wrong and is reported.
/// </summary>
public sealed record BestOfNEvaluation(int Prompts, int NoChoice, int Errors, double RandomAccuracy, double FirstAccuracy, double ChosenAccuracy, double OracleAccuracy)
{
    public static BestOfNEvaluation Evaluate(IReadOnlyList<BestOfNRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var labelled = records.Select(r => (Record: r, Correct: CorrectIndices(r))).Where(x => x.Correct is not null).ToList();
        if (labelled.Count == 0)
        {
            return new BestOfNEvaluation(0, 0, 0, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        double Mean(Func<(BestOfNRecord Record, HashSet<int> Correct), double> f) => labelled.Average(x => f((x.Record, x.Correct!)));
        return new BestOfNEvaluation(
            labelled.Count,
            labelled.Count(x => x.Record.Status == "no_choice"),
            labelled.Count(x => x.Record.Status == "error"),
            Mean(x => x.Record.Candidates.Count == 0 ? 0 : (double)x.Correct.Count / x.Record.Candidates.Count),
            Mean(x => x.Correct.Contains(0) ? 1 : 0),
            Mean(x => x.Record.Status == "ok" && x.Record.Choice is { } c && x.Correct.Contains(c) ? 1 : 0),
            Mean(x => x.Correct.Count > 0 ? 1 : 0));
    }

    public string Table() =>
        new StringBuilder()
            .AppendLine("| prompts | no choice | errors | random pick | first candidate | judge's choice | oracle |")
            .AppendLine("|---|---|---|---|---|---|---|")
            .AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {Prompts} | {NoChoice} | {Errors} | {RandomAccuracy:F3} | {FirstAccuracy:F3} | {ChosenAccuracy:F3} | {OracleAccuracy:F3} |"))
            .ToString();

    private static HashSet<int>? CorrectIndices(BestOfNRecord r) =>
        r.Label is { ValueKind: JsonValueKind.Array } label && label.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number)
            ? label.EnumerateArray().Select(e => e.GetInt32()).ToHashSet()
            : null;
}

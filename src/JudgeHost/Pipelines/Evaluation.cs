using System.Globalization;
using System.Text.Json;
using JudgeHost.Judging;

namespace JudgeHost.Pipelines;

/// <summary>One metric of one task.</summary>
public sealed record MetricValue(string Name, double Value);

/// <summary>Metrics of one task over judged items that carry a label.</summary>
/// <param name="Task">Task name.</param>
/// <param name="Items">Labelled items of the task.</param>
/// <param name="Unparsed">Items whose verdict was unparsed (they count as wrong; correlations exclude them).</param>
/// <param name="Errors">Items that could not be judged (excluded, counted).</param>
/// <param name="Metrics">Metric values.</param>
/// <param name="Gold">Gold labels of the parsed-or-unparsed items (classification tasks) or scores.</param>
/// <param name="Predicted">Predictions aligned with <paramref name="Gold"/> ("unparsed" where none).</param>
public sealed record TaskEvaluation(string Task, int Items, int Unparsed, int Errors, IReadOnlyList<MetricValue> Metrics,
    IReadOnlyList<string> Gold, IReadOnlyList<string> Predicted);

/// <summary>
/// Scores judged results against their labels, per task: pointwise Pearson / Spearman / MSE (over parsed items),
/// pairwise accuracy with and without ties and macro-F1, ranking mean normalized Levenshtein (unparsed = 1.0),
/// binary accuracy and macro-F1. Unparsed verdicts count as wrong predictions and are reported; nothing is
/// dropped silently.
/// </summary>
public static class Evaluation
{
    public const string UnparsedLabel = "unparsed";

    public static IReadOnlyList<TaskEvaluation> Evaluate(IEnumerable<JudgeResult> results)
    {
        var byTask = results.Where(r => r.Label is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined })
            .GroupBy(r => r.Task ?? "unknown").OrderBy(g => g.Key, StringComparer.Ordinal);
        return byTask.Select(g => EvaluateTask(g.Key, g.ToList())).ToArray();
    }

    private static TaskEvaluation EvaluateTask(string task, List<JudgeResult> items)
    {
        var judged = items.Where(r => r.Status != "error").ToList();
        int errors = items.Count - judged.Count;
        int unparsed = judged.Count(r => r.Status == "unparsed");
        var gold = judged.Select(r => LabelText(r.Label!.Value, task)).ToList();
        var predicted = judged.Select(r => Prediction(r, task)).ToList();
        var metrics = new List<MetricValue>();
        switch (task)
        {
            case "pointwise":
                var pairs = judged.Select((r, i) => (r, i)).Where(x => x.r.Status == "ok").Select(x => (Pred: x.r.Verdict!.Score!.Value, Gold: double.Parse(gold[x.i], CultureInfo.InvariantCulture))).ToList();
                metrics.Add(new("pearson", Metrics.Pearson(pairs.Select(p => p.Pred).ToList(), pairs.Select(p => p.Gold).ToList())));
                metrics.Add(new("spearman", Metrics.Spearman(pairs.Select(p => p.Pred).ToList(), pairs.Select(p => p.Gold).ToList())));
                metrics.Add(new("mse", Metrics.MeanSquaredError(pairs.Select(p => p.Pred).ToList(), pairs.Select(p => p.Gold).ToList())));
                break;
            case "pairwise":
                metrics.Add(new("accuracy", Metrics.Accuracy(predicted, gold)));
                metrics.Add(new("accuracy_without_ties", Metrics.AccuracyWithoutTies(predicted, gold, "tie")));
                metrics.Add(new("macro_f1", Metrics.MacroF1(predicted, gold, gold.Distinct().Order(StringComparer.Ordinal).ToList())));
                break;
            case "ranking":
                metrics.Add(new("normalized_levenshtein", judged.Count == 0 ? double.NaN
                    : predicted.Zip(gold, (p, g) => p == UnparsedLabel ? 1.0 : Metrics.NormalizedLevenshtein(p, g)).Average()));
                break;
            default:
                metrics.Add(new("accuracy", Metrics.Accuracy(predicted, gold)));
                metrics.Add(new("macro_f1", Metrics.MacroF1(predicted, gold, gold.Distinct().Order(StringComparer.Ordinal).ToList())));
                break;
        }

        metrics.Add(new("parse_failure_rate", judged.Count == 0 ? double.NaN : (double)unparsed / judged.Count));
        return new TaskEvaluation(task, items.Count, unparsed, errors, metrics, gold, predicted);
    }

    private static string Prediction(JudgeResult r, string task)
    {
        if (r.Status != "ok" || r.Verdict is null)
        {
            return UnparsedLabel;
        }

        return task switch
        {
            "pointwise" => r.Verdict.Score!.Value.ToString(CultureInfo.InvariantCulture),
            "pairwise" => r.Verdict.Outcome!,
            "ranking" => r.Verdict.Ranking!,
            _ => r.Verdict.Yes == true ? "yes" : "no",
        };
    }

    private static string LabelText(JsonElement label, string task)
    {
        string text = label.ValueKind switch
        {
            JsonValueKind.String => label.GetString()!,
            JsonValueKind.Number => label.GetDouble().ToString(CultureInfo.InvariantCulture),
            JsonValueKind.True => "yes",
            JsonValueKind.False => "no",
            _ => label.GetRawText(),
        };
        return task switch
        {
            "pairwise" => text.ToUpperInvariant() switch { "C" or "TIE" => "tie", "A" => "A", "B" => "B", var o => o },
            "ranking" => string.Concat(text.Where(char.IsLetter)).ToUpperInvariant(),
            "binary" => text.ToLowerInvariant(),
            _ => text,
        };
    }
}

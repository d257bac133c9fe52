using System.Globalization;
using System.Text;
using ScottPlot;

namespace JudgeHost.Pipelines;

/// <summary>Writes the evaluation as a Markdown report with PNG plots (confusion matrices, score-vs-label scatter) beside it.</summary>
public static class EvalReport
{
    public static string Table(IReadOnlyList<TaskEvaluation> tasks)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| task | items | unparsed | errors | metrics |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var t in tasks)
        {
            string metrics = string.Join(", ", t.Metrics.Select(m => $"{m.Name} {Format(m.Value)}"));
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {t.Task} | {t.Items} | {t.Unparsed} | {t.Errors} | {metrics} |");
        }

        return sb.ToString();
    }

    /// <summary>Writes <paramref name="path"/> (Markdown) and one PNG per plot next to it; returns the PNG paths.</summary>
    public static IReadOnlyList<string> Write(string path, IReadOnlyList<TaskEvaluation> tasks, string source)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string stem = Path.GetFileNameWithoutExtension(path);
        var images = new List<string>();
        var md = new StringBuilder();
        md.AppendLine("# JudgeHost evaluation").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Source: `{source}`. Unparsed verdicts count as wrong; correlations use parsed items only.").AppendLine();
        md.AppendLine(Table(tasks));
        foreach (var t in tasks)
        {
            using var plot = BuildPlot(t, out var size);
            if (plot is null)
            {
                continue;
            }

            string image = Path.Combine(dir, $"{stem}.{t.Task}.png");
            plot.SavePng(image, size.Width, size.Height);
            md.AppendLine(CultureInfo.InvariantCulture, $"## {t.Task}: {PlotTitle(t)}").AppendLine();
            images.Add(image);
            md.AppendLine(CultureInfo.InvariantCulture, $"![{t.Task}]({Path.GetFileName(image)})").AppendLine();
        }

        File.WriteAllText(path, md.ToString());
        return images;
    }

    /// <summary>What the task's plot shows, or null when it has none (ranking).</summary>
    public static string? PlotTitle(TaskEvaluation t) => t.Task switch
    {
        "pointwise" => "score vs label",
        "ranking" => null,
        _ => "confusion matrix (rows gold, columns predicted)",
    };

    /// <summary>The task's plot as PNG bytes (the report's image, for the viewer), or null when the task has none.</summary>
    public static byte[]? PlotPng(TaskEvaluation t)
    {
        using var plot = BuildPlot(t, out var size);
        return plot?.GetImageBytes(size.Width, size.Height, ImageFormat.Png);
    }

    private static Plot? BuildPlot(TaskEvaluation t, out (int Width, int Height) size)
    {
        size = t.Task == "pointwise" ? (600, 450) : (500, 450);
        return PlotTitle(t) is null ? null : t.Task == "pointwise" ? Scatter(t) : Confusion(t);
    }

    private static Plot Scatter(TaskEvaluation t)
    {
        var points = t.Gold.Zip(t.Predicted).Where(p => p.Second != Evaluation.UnparsedLabel)
            .Select(p => (X: double.Parse(p.First, CultureInfo.InvariantCulture), Y: double.Parse(p.Second, CultureInfo.InvariantCulture))).ToArray();
        var plot = new Plot();
        if (points.Length > 0)
        {
            plot.Add.ScatterPoints(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
        }

        plot.Title($"{t.Task}: judge score vs label ({points.Length} parsed of {t.Gold.Count})");
        plot.XLabel("label");
        plot.YLabel("judge score");
        return plot;
    }

    private static Plot Confusion(TaskEvaluation t)
    {
        var labels = t.Gold.Concat(t.Predicted).Distinct().Order(StringComparer.Ordinal).ToList();
        int[,] counts = Metrics.ConfusionMatrix(t.Predicted, t.Gold, labels);
        int n = labels.Count;
        var values = new double[n, n];
        for (int g = 0; g < n; g++)
        {
            for (int p = 0; p < n; p++)
            {
                values[g, p] = counts[g, p];
            }
        }

        var plot = new Plot();
        _ = plot.Add.Heatmap(values);   // row 0 (first gold label) is drawn at the top
        for (int g = 0; g < n; g++)
        {
            for (int p = 0; p < n; p++)
            {
                var text = plot.Add.Text(counts[g, p].ToString(CultureInfo.InvariantCulture), p, n - 1 - g);
                text.LabelFontSize = 18;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = Colors.White;
            }
        }

        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, n).Select(i => (double)i).ToArray(), labels.ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(i => (double)(n - 1 - i)).ToArray(), labels.ToArray());
        plot.XLabel("predicted");
        plot.YLabel("gold");
        plot.Title($"{t.Task}: confusion matrix");
        return plot;
    }

    private static string Format(double v) => double.IsNaN(v) ? "n/a" : v.ToString("0.####", CultureInfo.InvariantCulture);
}

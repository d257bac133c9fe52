using System.Text;

namespace JudgeHost.Pipelines;

/// <summary>
/// Evaluation metrics of <c>judgehost eval</c> (JUDGE_PROTOCOL §4) as small pure functions in double precision.
/// Each one mirrors the scipy / sklearn / python-Levenshtein call the reference evaluator uses, and is checked
/// against values those libraries produced (tools/metrics/make_metric_fixtures.py).
/// </summary>
/// <remarks>
/// An undefined value (a correlation of constant data, an accuracy over zero items) is <see cref="double.NaN"/>,
/// never a made-up number: the reference turned a NaN Pearson r into 0, which silently rewards a judge that
/// always answers the same score. Callers decide what to do with NaN; the report shows it as "n/a".
/// Paired lists of different lengths throw <see cref="ArgumentException"/> naming both lengths.
/// </remarks>
public static class Metrics
{
    /// <summary>
    /// Pearson's r as <c>scipy.stats.pearsonr(x, y).statistic</c>.
    /// NaN for fewer than 2 points (scipy raises there), when either input is constant (scipy warns and
    /// returns NaN), or when an input holds NaN.
    /// </summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckSameLength(x, y, nameof(x), nameof(y));
        int n = x.Count;
        if (n < 2 || IsConstant(x) || IsConstant(y))
        {
            return double.NaN;
        }

        if (n == 2)
        {
            // Exactly ±1, as scipy special-cases it (the general formula can land one ulp inside).
            return Math.Sign(x[1] - x[0]) * Math.Sign(y[1] - y[0]);
        }

        // scipy's order of operations: centre, divide by the Euclidean norms, dot product, clip to [-1, 1].
        // Scaling by the largest deviation first (as scipy >= 1.11 does) keeps the squares from overflowing
        // or underflowing; it changes the result only in the last bits.
        double[] xm = Normalized(x);
        double[] ym = Normalized(y);
        double r = 0;
        for (int i = 0; i < n; i++)
        {
            r += xm[i] * ym[i];
        }

        return double.IsNaN(r) ? r : Math.Clamp(r, -1.0, 1.0);
    }

    /// <summary>
    /// Spearman's rho as <c>scipy.stats.spearmanr(x, y).statistic</c>: the Pearson r of the average ranks
    /// (<see cref="Ranks"/>). NaN in the same cases as <see cref="Pearson"/> (a constant input has constant ranks).
    /// </summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckSameLength(x, y, nameof(x), nameof(y));
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>
    /// 1-based ranks with ties given their mean rank, as <c>scipy.stats.rankdata(values, method='average')</c>:
    /// <c>[10, 20, 20, 30]</c> → <c>[1, 2.5, 2.5, 4]</c>. If any value is NaN every rank is NaN (scipy's
    /// 'propagate' policy), so a correlation over it is NaN rather than a rank of an unordered value.
    /// </summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int n = values.Count;
        var ranks = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (double.IsNaN(values[i]))
            {
                Array.Fill(ranks, double.NaN);
                return ranks;
            }
        }

        int[] order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) => values[a].CompareTo(values[b]));
        for (int start = 0; start < n;)
        {
            int end = start;                                   // [start, end] share one value
            while (end + 1 < n && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            double rank = 0.5 * ((start + 1) + (end + 1));      // mean of the 1-based ranks start+1 .. end+1
            for (int k = start; k <= end; k++)
            {
                ranks[order[k]] = rank;
            }

            start = end + 1;
        }

        return ranks;
    }

    /// <summary>
    /// Fraction of items whose predicted label equals the gold label (ordinal comparison), as
    /// <c>sklearn.metrics.accuracy_score</c>. This is the "w. Tie" pairwise accuracy: a predicted tie is
    /// correct exactly when gold is a tie. NaN for zero items.
    /// </summary>
    public static double Accuracy(IReadOnlyList<string> predicted, IReadOnlyList<string> gold)
    {
        CheckSameLength(predicted, gold, nameof(predicted), nameof(gold));
        int correct = 0;
        for (int i = 0; i < gold.Count; i++)
        {
            if (string.Equals(predicted[i], gold[i], StringComparison.Ordinal))
            {
                correct++;
            }
        }

        return gold.Count == 0 ? double.NaN : (double)correct / gold.Count;
    }

    /// <summary>
    /// The "w.o Tie" pairwise accuracy (JUDGE_PROTOCOL §4): only items whose gold label is not
    /// <paramref name="tieLabel"/> count, and a predicted tie on them is wrong (it never equals a non-tie gold).
    /// NaN when no gold label is a non-tie.
    /// </summary>
    public static double AccuracyWithoutTies(IReadOnlyList<string> predicted, IReadOnlyList<string> gold, string tieLabel)
    {
        CheckSameLength(predicted, gold, nameof(predicted), nameof(gold));
        ArgumentNullException.ThrowIfNull(tieLabel);
        int counted = 0;
        int correct = 0;
        for (int i = 0; i < gold.Count; i++)
        {
            if (string.Equals(gold[i], tieLabel, StringComparison.Ordinal))
            {
                continue;
            }

            counted++;
            if (string.Equals(predicted[i], gold[i], StringComparison.Ordinal))
            {
                correct++;
            }
        }

        return counted == 0 ? double.NaN : (double)correct / counted;
    }

    /// <summary>
    /// Macro-averaged F1 as <c>sklearn.metrics.f1_score(gold, predicted, labels=labels, average='macro',
    /// zero_division=0)</c>. Without <paramref name="labels"/> the labels are the ordinally sorted union of gold
    /// and predicted. Per label F1 = 2·tp / (2·tp + fp + fn) (algebraically sklearn's 2PR / (P + R), with one
    /// rounding instead of four), 0 when that denominator is 0;
    /// so a gold class never predicted, or a predicted class absent from gold, contributes an F1 of 0.
    /// Items whose gold and predicted labels are both outside an explicit <paramref name="labels"/> are ignored,
    /// as sklearn does. NaN for zero items or an empty label list.
    /// </summary>
    public static double MacroF1(IReadOnlyList<string> predicted, IReadOnlyList<string> gold, IReadOnlyList<string>? labels = null)
    {
        CheckSameLength(predicted, gold, nameof(predicted), nameof(gold));
        IReadOnlyList<string> classes = labels ?? SortedUnion(predicted, gold);
        if (gold.Count == 0 || classes.Count == 0)
        {
            return double.NaN;
        }

        double sum = 0;
        foreach (string label in classes)
        {
            int tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < gold.Count; i++)
            {
                bool isGold = string.Equals(gold[i], label, StringComparison.Ordinal);
                bool isPredicted = string.Equals(predicted[i], label, StringComparison.Ordinal);
                tp += isGold && isPredicted ? 1 : 0;
                fp += !isGold && isPredicted ? 1 : 0;
                fn += isGold && !isPredicted ? 1 : 0;
            }

            int denominator = (2 * tp) + fp + fn;
            sum += denominator == 0 ? 0.0 : 2.0 * tp / denominator;
        }

        return sum / classes.Count;
    }

    /// <summary>
    /// Counts with rows = gold label and columns = predicted label, both indexed by position in
    /// <paramref name="labels"/>, as <c>sklearn.metrics.confusion_matrix(gold, predicted, labels=labels)</c>.
    /// Items whose gold or predicted label is not in <paramref name="labels"/> are not counted.
    /// </summary>
    public static int[,] ConfusionMatrix(IReadOnlyList<string> predicted, IReadOnlyList<string> gold, IReadOnlyList<string> labels)
    {
        CheckSameLength(predicted, gold, nameof(predicted), nameof(gold));
        ArgumentNullException.ThrowIfNull(labels);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < labels.Count; i++)
        {
            if (!index.TryAdd(labels[i], i))
            {
                throw new ArgumentException($"Label '{labels[i]}' appears more than once in labels.", nameof(labels));
            }
        }

        var matrix = new int[labels.Count, labels.Count];
        for (int i = 0; i < gold.Count; i++)
        {
            if (index.TryGetValue(gold[i], out int row) && index.TryGetValue(predicted[i], out int column))
            {
                matrix[row, column]++;
            }
        }

        return matrix;
    }

    /// <summary>
    /// Edit distance (insertions, deletions, substitutions, each cost 1) over Unicode code points, like
    /// <c>Levenshtein.distance</c> on Python strings (so a surrogate pair counts as one character).
    /// </summary>
    public static int Levenshtein(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int[] s = CodePoints(a);
        int[] t = CodePoints(b);

        // Two-row dynamic programme: previous[j] = distance(s[..i-1], t[..j]).
        var previous = new int[t.Length + 1];
        var current = new int[t.Length + 1];
        for (int j = 0; j <= t.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= s.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= t.Length; j++)
            {
                int substitution = previous[j - 1] + (s[i - 1] == t[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[t.Length];
    }

    /// <summary>
    /// The MLLM-as-a-Judge batch metric: <c>Levenshtein.distance(a, b) / max(len(a), len(b))</c>, in [0, 1],
    /// lower is better; 0 when both strings are empty (the reference would divide by zero).
    /// </summary>
    public static double NormalizedLevenshtein(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int longest = Math.Max(CodePointCount(a), CodePointCount(b));
        return longest == 0 ? 0.0 : (double)Levenshtein(a, b) / longest;
    }

    /// <summary>
    /// Mean of the squared differences, as <c>sklearn.metrics.mean_squared_error(x, y)</c>. NaN for zero items.
    /// </summary>
    public static double MeanSquaredError(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        CheckSameLength(x, y, nameof(x), nameof(y));
        double sum = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double d = x[i] - y[i];
            sum += d * d;
        }

        return x.Count == 0 ? double.NaN : sum / x.Count;
    }

    private static void CheckSameLength<T>(IReadOnlyList<T> first, IReadOnlyList<T> second, string firstName, string secondName)
    {
        ArgumentNullException.ThrowIfNull(first, firstName);
        ArgumentNullException.ThrowIfNull(second, secondName);
        if (first.Count != second.Count)
        {
            throw new ArgumentException(
                $"{firstName} has {first.Count} items and {secondName} has {second.Count}; paired metrics need the same length.",
                secondName);
        }
    }

    private static bool IsConstant(IReadOnlyList<double> values)
    {
        // Exact comparison with the first value, like scipy's constant-input check; a NaN anywhere is
        // not "constant" and makes r NaN through the arithmetic instead.
        for (int i = 1; i < values.Count; i++)
        {
            if (values[i] != values[0])
            {
                return false;
            }
        }

        return !double.IsNaN(values[0]);
    }

    /// <summary>(v - mean) / max|v - mean|, then divided by its Euclidean norm.</summary>
    private static double[] Normalized(IReadOnlyList<double> values)
    {
        int n = values.Count;
        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            mean += values[i];
        }

        mean /= n;
        var centred = new double[n];
        double largest = 0;
        for (int i = 0; i < n; i++)
        {
            centred[i] = values[i] - mean;
            largest = Math.Max(largest, Math.Abs(centred[i]));
        }

        double squares = 0;
        for (int i = 0; i < n; i++)
        {
            centred[i] /= largest;
            squares += centred[i] * centred[i];
        }

        double norm = Math.Sqrt(squares);
        for (int i = 0; i < n; i++)
        {
            centred[i] /= norm;
        }

        return centred;
    }

    private static string[] SortedUnion(IReadOnlyList<string> predicted, IReadOnlyList<string> gold)
    {
        var union = new SortedSet<string>(gold, StringComparer.Ordinal);
        union.UnionWith(predicted);
        return [.. union];
    }

    private static int[] CodePoints(string text)
    {
        var points = new List<int>(text.Length);
        foreach (Rune rune in text.EnumerateRunes())
        {
            points.Add(rune.Value);
        }

        return [.. points];
    }

    private static int CodePointCount(string text)
    {
        int count = 0;
        foreach (Rune _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }
}

using System.Text.Json;
using JudgeHost.Pipelines;
using Xunit.Abstractions;

namespace JudgeHost.Tests.Pipelines;

/// <summary>
/// <see cref="Metrics"/> against scipy / sklearn values from tools/metrics/make_metric_fixtures.py
/// (Fixtures/metrics/metrics_reference.json; JSON null = NaN), plus hand-computed cases.
/// </summary>
public sealed class MetricsTests(ITestOutputHelper output)
{
    /// <summary>Relative tolerance against the Python reference; NaN must meet NaN.</summary>
    private const double Tolerance = 1e-12;

    private static readonly Lazy<JsonDocument> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "metrics", "metrics_reference.json"))));

    public static TheoryData<string> CorrelationCases => CaseNames("correlation");

    public static TheoryData<string> LabelCases => CaseNames("labels");

    public static TheoryData<string> EditCases => CaseNames("edit");

    [Fact]
    public void Fixture_EveryKind_HasCases()
    {
        // Guards the theories below: an empty or unreadable fixture would make them pass vacuously.
        Assert.True(CorrelationCases.Count >= 10, $"{CorrelationCases.Count} correlation cases");
        Assert.True(LabelCases.Count >= 5, $"{LabelCases.Count} label cases");
        Assert.True(EditCases.Count >= 2, $"{EditCases.Count} edit cases");
    }

    [Theory]
    [MemberData(nameof(CorrelationCases))]
    public void CorrelationMetrics_FixtureCase_MatchScipy(string name)
    {
        var c = Case(name);
        double[] x = Doubles(c.GetProperty("x"));
        double[] y = Doubles(c.GetProperty("y"));

        var errors = new List<double>
        {
            Check(name, "pearson", Number(c.GetProperty("pearson")), Metrics.Pearson(x, y)),
            Check(name, "spearman", Number(c.GetProperty("spearman")), Metrics.Spearman(x, y)),
            Check(name, "mse", Number(c.GetProperty("mse")), Metrics.MeanSquaredError(x, y)),
        };
        errors.AddRange(CheckAll(name, "ranks_x", Doubles(c.GetProperty("ranks_x")), Metrics.Ranks(x)));
        errors.AddRange(CheckAll(name, "ranks_y", Doubles(c.GetProperty("ranks_y")), Metrics.Ranks(y)));

        output.WriteLine($"{name}: max relative error {errors.Max():R}");
    }

    [Theory]
    [MemberData(nameof(LabelCases))]
    public void LabelMetrics_FixtureCase_MatchSklearn(string name)
    {
        var c = Case(name);
        string[] predicted = Strings(c.GetProperty("predicted"));
        string[] gold = Strings(c.GetProperty("gold"));
        var labelsElement = c.GetProperty("labels");
        string[]? labels = labelsElement.ValueKind == JsonValueKind.Null ? null : Strings(labelsElement);

        var errors = new List<double>
        {
            Check(name, "accuracy", Number(c.GetProperty("accuracy")), Metrics.Accuracy(predicted, gold)),
            Check(name, "macro_f1", Number(c.GetProperty("macro_f1")), Metrics.MacroF1(predicted, gold, labels)),
        };
        if (c.GetProperty("tie_label").GetString() is { } tie)
        {
            errors.Add(Check(name, "accuracy_without_ties", Number(c.GetProperty("accuracy_without_ties")),
                Metrics.AccuracyWithoutTies(predicted, gold, tie)));
        }

        string[] matrixLabels = Strings(c.GetProperty("confusion_labels"));
        int[,] matrix = Metrics.ConfusionMatrix(predicted, gold, matrixLabels);
        int[][] expected = c.GetProperty("confusion_matrix").EnumerateArray()
            .Select(row => row.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        Assert.Equal(expected.Length, matrix.GetLength(0));
        for (int r = 0; r < expected.Length; r++)
        {
            Assert.Equal(expected[r], Enumerable.Range(0, matrix.GetLength(1)).Select(col => matrix[r, col]));
        }

        output.WriteLine($"{name}: max relative error {errors.Max():R}");
    }

    [Theory]
    [MemberData(nameof(EditCases))]
    public void EditDistance_FixtureCase_MatchesReference(string name)
    {
        double worst = 0;
        foreach (var pair in Case(name).GetProperty("pairs").EnumerateArray())
        {
            string a = pair.GetProperty("a").GetString()!;
            string b = pair.GetProperty("b").GetString()!;
            string label = $"{name} ('{a}', '{b}')";

            Assert.Equal(pair.GetProperty("distance").GetInt32(), Metrics.Levenshtein(a, b));
            worst = Math.Max(worst, Check(label, "normalized", Number(pair.GetProperty("normalized")), Metrics.NormalizedLevenshtein(a, b)));
        }

        output.WriteLine($"{name}: max relative error {worst:R}");
    }

    [Fact]
    public void Spearman_TiesInX_UsesAverageRanks()
    {
        // Ranks of x are [1, 2.5, 2.5, 4]; Pearson of those with [1, 2, 3, 4] is 4.5 / sqrt(4.5 * 5) = sqrt(0.9).
        double rho = Metrics.Spearman([1, 2, 2, 3], [10, 20, 30, 40]);

        Assert.Equal(Math.Sqrt(0.9), rho, 1e-15);
    }

    [Fact]
    public void Ranks_TiedValues_GetTheirMeanRank()
    {
        Assert.Equal([1, 2.5, 2.5, 4], Metrics.Ranks([10, 20, 20, 30]));
        Assert.Equal([3, 1, 3, 3], Metrics.Ranks([3, 1, 3, 3]));
    }

    [Fact]
    public void Pearson_ConstantOrTooShortInput_IsNaN()
    {
        Assert.True(double.IsNaN(Metrics.Pearson([2, 2, 2], [1, 2, 3])));
        Assert.True(double.IsNaN(Metrics.Pearson([1, 2, 3], [5, 5, 5])));
        Assert.True(double.IsNaN(Metrics.Pearson([1], [2])));
        Assert.True(double.IsNaN(Metrics.Spearman([4, 4], [1, 2])));
    }

    [Fact]
    public void Pearson_TwoPoints_IsPlusOrMinusOne()
    {
        Assert.Equal(-1.0, Metrics.Pearson([1, 3], [5, 2]));
        Assert.Equal(1.0, Metrics.Pearson([1, 3], [2, 5]));
    }

    [Fact]
    public void MacroF1_PredictedClassAbsentFromGold_CountsItWithZeroF1()
    {
        // A: tp 1, fn 1 -> 2/3.  B: tp 1, fp 1, fn 1 -> 1/2.  C (only predicted): tp 0, fp 1 -> 0.
        double f1 = Metrics.MacroF1(["A", "B", "B", "C"], ["A", "A", "B", "B"]);

        Assert.Equal(((2.0 / 3) + 0.5) / 3, f1, 1e-15);
    }

    [Fact]
    public void MacroF1_GoldClassNeverPredicted_CountsItWithZeroF1()
    {
        // A: 1.  B: tp 1, fp 1 -> 2/3.  C (never predicted): tp 0, fn 1 -> 0.
        double f1 = Metrics.MacroF1(["A", "B", "B"], ["A", "B", "C"]);

        Assert.Equal(5.0 / 9, f1, 1e-15);
    }

    [Fact]
    public void MacroF1_ExplicitLabelAbsentEverywhere_AveragesInAZero()
    {
        double f1 = Metrics.MacroF1(["A", "B"], ["A", "B"], ["A", "B", "C"]);

        Assert.Equal(2.0 / 3, f1, 1e-15);
    }

    [Fact]
    public void AccuracyWithoutTies_PredictedTieOnNonTieGold_CountsAsWrong()
    {
        string[] gold = ["A", "B", "C", "A"];
        string[] predicted = ["A", "C", "C", "B"];

        Assert.Equal(0.5, Metrics.Accuracy(predicted, gold));                     // items 0 and 2
        Assert.Equal(1.0 / 3, Metrics.AccuracyWithoutTies(predicted, gold, "C"));  // items 0, 1, 3; only 0 right
        Assert.True(double.IsNaN(Metrics.AccuracyWithoutTies(["A"], ["C"], "C")));
    }

    [Fact]
    public void NormalizedLevenshtein_ReversedRanking_IsTwoThirds()
    {
        Assert.Equal(2, Metrics.Levenshtein("ABC", "CBA"));
        Assert.Equal(2.0 / 3, Metrics.NormalizedLevenshtein("ABC", "CBA"));
    }

    [Fact]
    public void NormalizedLevenshtein_EmptyStrings_AreZeroOrOne()
    {
        Assert.Equal(0.0, Metrics.NormalizedLevenshtein("", ""));
        Assert.Equal(1.0, Metrics.NormalizedLevenshtein("", "AB"));
    }

    [Fact]
    public void Levenshtein_SurrogatePair_CountsAsOneCharacter()
    {
        // Python strings are code points; "a\U0001F600b" has length 3 there, 4 UTF-16 units here.
        Assert.Equal(1, Metrics.Levenshtein("a\U0001F600b", "ab"));
        Assert.Equal(1.0 / 3, Metrics.NormalizedLevenshtein("a\U0001F600b", "ab"));
    }

    [Fact]
    public void ConfusionMatrix_RowsGoldColumnsPredicted_CountsPairs()
    {
        int[,] m = Metrics.ConfusionMatrix(["A", "B", "B", "Z"], ["A", "A", "B", "B"], ["A", "B"]);

        Assert.Equal(new int[,] { { 1, 1 }, { 0, 1 } }, m);   // the Z prediction is outside labels: not counted
    }

    [Fact]
    public void MeanSquaredError_SmallVectors_IsMeanOfSquares()
    {
        Assert.Equal(4.0 / 3, Metrics.MeanSquaredError([1, 2, 3], [1, 2, 5]));
    }

    [Fact]
    public void Pearson_LengthMismatch_ThrowsWithBothLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => Metrics.Pearson([1, 2, 3], [1, 2]));

        Assert.Contains("3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MacroF1_LengthMismatch_Throws()
    {
        Assert.Throws<ArgumentException>(() => Metrics.MacroF1(["A"], ["A", "B"]));
        Assert.Throws<ArgumentException>(() => Metrics.Accuracy(["A"], []));
    }

    /// <summary>Asserts agreement within <see cref="Tolerance"/> (relative) and returns the relative error.</summary>
    private static double Check(string caseName, string metric, double expected, double actual)
    {
        if (double.IsNaN(expected) || double.IsNaN(actual))
        {
            Assert.True(double.IsNaN(expected) && double.IsNaN(actual), $"{caseName} {metric}: expected {expected:R}, got {actual:R}.");
            return 0;
        }

        double error = expected == actual ? 0 : Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), Math.Abs(actual));
        Assert.True(error <= Tolerance, $"{caseName} {metric}: expected {expected:R}, got {actual:R} (relative error {error:R}).");
        return error;
    }

    private static IEnumerable<double> CheckAll(string caseName, string metric, double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        return expected.Select((e, i) => Check(caseName, $"{metric}[{i}]", e, actual[i])).ToList();
    }

    private static TheoryData<string> CaseNames(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var c in Fixture.Value.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("kind").GetString() == kind)
            {
                data.Add(c.GetProperty("name").GetString()!);
            }
        }

        return data;
    }

    private static JsonElement Case(string name) =>
        Fixture.Value.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static double Number(JsonElement e) => e.ValueKind == JsonValueKind.Null ? double.NaN : e.GetDouble();

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(Number).ToArray();

    private static string[] Strings(JsonElement e) => e.EnumerateArray().Select(v => v.GetString()!).ToArray();
}

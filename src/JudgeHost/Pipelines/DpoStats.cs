using System.Globalization;
using System.Text.Json.Serialization;

namespace JudgeHost.Pipelines;

/// <summary>
/// What a DPO job kept and why it dropped the rest: prompts (ok / failed), pairs judged, kept, and dropped per
/// reason (<see cref="DpoDropReasons"/>), judgments that could not be read, and the pairs written per export.
/// </summary>
public sealed class DpoStats
{
    [JsonPropertyName("prompts")]
    public int Prompts { get; private set; }

    [JsonPropertyName("prompts_failed")]
    public int PromptsFailed { get; private set; }

    [JsonPropertyName("candidates")]
    public int Candidates { get; private set; }

    [JsonPropertyName("pairs_judged")]
    public int PairsJudged { get; private set; }

    [JsonPropertyName("pairs_kept")]
    public int PairsKept { get; private set; }

    [JsonPropertyName("dropped")]
    public SortedDictionary<string, int> Dropped { get; } = new(StringComparer.Ordinal);

    [JsonPropertyName("judgment_parse_failures")]
    public int JudgmentParseFailures { get; private set; }

    [JsonPropertyName("judgment_errors")]
    public int JudgmentErrors { get; private set; }

    public void Add(DpoRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Prompts++;
        if (record.Status == "error")
        {
            PromptsFailed++;
        }

        Candidates += record.Candidates.Count;
        PairsKept += record.Pairs.Count;
        PairsJudged += record.Pairs.Count + record.Dropped.Count;
        foreach (var d in record.Dropped)
        {
            Dropped[d.Reason] = Dropped.GetValueOrDefault(d.Reason) + 1;
        }

        JudgmentParseFailures += record.ParseFailures;
        JudgmentErrors += record.JudgeErrors;
    }

    /// <summary>One line for the log.</summary>
    public string Summary()
    {
        string dropped = Dropped.Count > 0 ? "; dropped: " + string.Join(", ", Dropped.Select(d => $"{d.Value} {d.Key}")) : "";
        string failed = PromptsFailed > 0 ? $"; {PromptsFailed} prompt(s) failed" : "";
        double share = PairsJudged == 0 ? 0 : 100.0 * PairsKept / PairsJudged;
        return string.Create(CultureInfo.InvariantCulture, $"dpo: kept {PairsKept} of {PairsJudged} judged pair(s) ({share:F1}%) from {Prompts} prompt(s){dropped}{failed}");
    }
}

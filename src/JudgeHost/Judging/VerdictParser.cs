using System.Globalization;
using System.Text.RegularExpressions;

namespace JudgeHost.Judging;

/// <summary>
/// Reads a reasoning judge's output: reasoning in <c>&lt;think&gt;…&lt;/think&gt;</c>, then the verdict in
/// <c>&lt;answer&gt;…&lt;/answer&gt;</c> tags. Only tags after the last <c>&lt;/think&gt;</c> count. It never invents an
/// answer: a missing or unclosed tag, a truncated generation, a value out of range, conflicting answers, a ranking
/// that is not a permutation are each <see cref="Verdict.Unparsed"/> with the reason. Whitespace inside tags and
/// decimal scores are accepted (the reference's integer-only regex turned them into silent ties).
/// </summary>
public static partial class VerdictParser
{
    /// <summary>Parses one output.</summary>
    /// <param name="raw">Generated text (after any prefilled <c>&lt;think&gt;</c>).</param>
    /// <param name="format">Expected answer format.</param>
    /// <param name="truncated">The generation stopped at its token limit rather than at a stop token.</param>
    /// <param name="requireThink">Demand a closed reasoning block before the answer (reasoning-first protocol).</param>
    public static Verdict Parse(string raw, AnswerFormat format, bool truncated = false, bool requireThink = true)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(format);
        Verdict Fail(string reason) => new Verdict.Unparsed(reason, raw);

        int thinkEnd = raw.LastIndexOf("</think>", StringComparison.OrdinalIgnoreCase);
        string answerPart;
        if (thinkEnd >= 0)
        {
            answerPart = raw[(thinkEnd + "</think>".Length)..];
        }
        else if (requireThink)
        {
            return Fail(truncated
                ? "truncated: the generation hit its token limit inside the reasoning (no </think>)"
                : "no </think>: the judge did not close its reasoning before answering");
        }
        else
        {
            answerPart = raw;
        }

        var tags = AnswerTag().Matches(answerPart).Select(m => m.Groups[1].Value.Trim()).ToList();
        int lastClose = answerPart.LastIndexOf("</answer>", StringComparison.OrdinalIgnoreCase);
        bool unclosed = answerPart.LastIndexOf("<answer>", StringComparison.OrdinalIgnoreCase) > lastClose;
        if (tags.Count == 0 || unclosed)
        {
            if (truncated)
            {
                return Fail("truncated: the generation hit its token limit before a complete answer");
            }

            return Fail(unclosed ? "unclosed <answer> tag" : "missing answer: no <answer>…</answer> after the reasoning");
        }

        return format.Kind switch
        {
            AnswerKind.Score => ParseSingle(tags, raw, v => ParseScore(v, format, raw), "score"),
            AnswerKind.YesNo => ParseSingle(tags, raw, v => ParseYesNo(v, raw), "answer"),
            AnswerKind.PairBrackets => ParseSingle(tags, raw, v => ParseBracket(v, raw), "verdict"),
            AnswerKind.RankingLetters => ParseSingle(tags, raw, v => ParseLetters(v, format.Candidates, raw), "ranking"),
            AnswerKind.PairScores => ParsePairScores(tags, format, raw),
            AnswerKind.RankingScores => ParseRankingScores(tags, format, raw),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format.Kind, "Unknown answer kind."),
        };
    }

    /// <summary>True when the whole output is exactly one reasoning block then answer tags (the MT-RL-Judge format reward).</summary>
    public static bool IsWellFormatted(string raw) => FormatPattern().IsMatch(raw);

    private static Verdict ParseSingle(List<string> tags, string raw, Func<string, Verdict> parse, string what)
    {
        var verdicts = tags.Select(parse).ToList();
        if (verdicts.FirstOrDefault(v => v is Verdict.Unparsed) is { } bad)
        {
            return bad;
        }

        // Repeating the same answer is harmless; two different answers are a conflict, not a choice to make for the judge.
        return verdicts.Distinct().Count() == 1
            ? verdicts[0]
            : new Verdict.Unparsed($"conflicting answers: {tags.Count} {what} tags disagree ({string.Join(", ", tags.Select(t => $"'{t}'"))})", raw);
    }

    private static Verdict ParseScore(string value, AnswerFormat format, string raw) =>
        ReadNumber(value, format, raw, out double v) is { } failure ? failure : new Verdict.Score(v);

    private static Verdict ParsePairScores(List<string> tags, AnswerFormat format, string raw)
    {
        if (tags.Count != 2)
        {
            return new Verdict.Unparsed($"expected 2 answer tags (one score per assistant), found {tags.Count}", raw);
        }

        if (ReadNumber(tags[0], format, raw, out double a) is { } fa)
        {
            return fa;
        }

        if (ReadNumber(tags[1], format, raw, out double b) is { } fb)
        {
            return fb;
        }

        var outcome = a > b ? PairOutcome.A : a < b ? PairOutcome.B : PairOutcome.Tie;
        return new Verdict.Pair(outcome, a, b);
    }

    private static Verdict ParseRankingScores(List<string> tags, AnswerFormat format, string raw)
    {
        if (tags.Count != format.Candidates)
        {
            return new Verdict.Unparsed($"expected {format.Candidates} answer tags (one score per assistant), found {tags.Count}", raw);
        }

        var scores = new double[tags.Count];
        for (int i = 0; i < tags.Count; i++)
        {
            if (ReadNumber(tags[i], format, raw, out scores[i]) is { } failure)
            {
                return failure;
            }
        }

        // Best first; equal scores keep candidate order (stated tie-break), and the verdict says ties occurred.
        int[] order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        bool tied = scores.Distinct().Count() < scores.Length;
        return new Verdict.Ranking(order, scores, tied);
    }

    private static Verdict ParseLetters(string value, int candidates, string raw)
    {
        string letters = string.Concat(value.Where(char.IsLetter)).ToUpperInvariant();
        string separators = string.Concat(value.Where(c => !char.IsLetter(c)));
        if (separators.Any(c => c is not ('>' or ',' or ' ' or '\t' or '\n')))
        {
            return new Verdict.Unparsed($"ranking '{value}' holds characters other than letters and '>' or ',' separators", raw);
        }

        var order = letters.Select(c => c - 'A').ToArray();
        bool permutation = order.Length == candidates && order.All(i => i >= 0 && i < candidates) && order.Distinct().Count() == candidates;
        return permutation
            ? new Verdict.Ranking(order, null, false)
            : new Verdict.Unparsed($"ranking '{value}' is not a permutation of the {candidates} candidates {string.Concat(Enumerable.Range(0, candidates).Select(i => (char)('A' + i)))}", raw);
    }

    private static Verdict ParseYesNo(string value, string raw) =>
        value.TrimEnd('.', '!').Trim().ToUpperInvariant() switch
        {
            "YES" => new Verdict.Binary(true),
            "NO" => new Verdict.Binary(false),
            _ => new Verdict.Unparsed($"answer '{value}' is neither yes nor no", raw),
        };

    private static Verdict ParseBracket(string value, string raw) =>
        value.Replace(" ", "", StringComparison.Ordinal) switch
        {
            "[[A>B]]" or "[[B<A]]" => new Verdict.Pair(PairOutcome.A, null, null),
            "[[B>A]]" or "[[A<B]]" => new Verdict.Pair(PairOutcome.B, null, null),
            "[[A=B=Good]]" => new Verdict.Pair(PairOutcome.Tie, null, null),
            "[[A=B=Bad]]" => new Verdict.Pair(PairOutcome.BothBad, null, null),
            _ => new Verdict.Unparsed($"verdict '{value}' is not one of [[A>B]], [[B>A]], [[A=B=Good]], [[A=B=Bad]]", raw),
        };

    private static Verdict.Unparsed? ReadNumber(string value, AnswerFormat format, string raw, out double number)
    {
        if (!NumberPattern().IsMatch(value) || !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out number))
        {
            number = double.NaN;
            return new Verdict.Unparsed($"answer '{value}' is not a number", raw);
        }

        return number < format.Min || number > format.Max
            ? new Verdict.Unparsed($"score {value} is outside the scale {format.Min.ToString(CultureInfo.InvariantCulture)}–{format.Max.ToString(CultureInfo.InvariantCulture)}", raw)
            : null;
    }

    [GeneratedRegex(@"<answer>(.*?)</answer>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex AnswerTag();

    [GeneratedRegex(@"^[+-]?(\d+(\.\d*)?|\.\d+)$")]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"^\s*<think>.*?</think>\s*(<answer>.*?</answer>\s*)+$", RegexOptions.Singleline)]
    private static partial Regex FormatPattern();
}

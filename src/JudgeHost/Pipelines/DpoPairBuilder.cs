using JudgeHost.Abstractions;
using JudgeHost.Judging;

namespace JudgeHost.Pipelines;

/// <summary>Settings of DPO pair construction.</summary>
public sealed class DpoOptions
{
    public const string Section = "Dpo";

    public DpoJudgeMode Mode { get; set; } = DpoJudgeMode.Pairwise;

    /// <summary>
    /// Smallest score difference a kept pair needs (pairwise: between the two mean scores over both orders;
    /// pointwise: best minus worst). 0 = any strict preference.
    /// </summary>
    public double MinMargin { get; set; }

    public bool StripFinalAnswer { get; set; }

    public string FinalAnswerMarker { get; set; } = CandidateView.DefaultMarker;

    public void Validate()
    {
        if (MinMargin < 0 || !double.IsFinite(MinMargin))
        {
            throw new JudgeHostException($"--min-margin {MinMargin} must be 0 or a positive number.");
        }
    }
}

/// <summary>
/// Builds preference pairs for one prompt. Pairwise (default, the Flex-Mol recipe): every pair of candidates is
/// judged in both orders in one judge call (one shared prefix, forked for each order), and a pair is kept only when
/// both orders name the same winner, and — with a margin — when the mean scores differ by at least the margin.
/// Pointwise: each candidate is scored; best vs worst is kept when they differ by more than the margin.
/// </summary>
public sealed class DpoPairBuilder(JudgeService judge, DpoOptions options)
{
    public DpoRecord Build(PromptItem item, IReadOnlyList<Candidate> candidates, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        options.Validate();
        if (!judge.Options.BothOrders && options.Mode == DpoJudgeMode.Pairwise)
        {
            throw new JudgeHostException("DPO pairs are judged in both orders; the judge options have both orders switched off.");
        }

        if (candidates.Count < 2)
        {
            throw new JudgeHostException($"Prompt '{item.Id}' has {candidates.Count} candidate(s); a preference pair needs at least 2. Give more candidates or sample more with --num-candidates.");
        }

        var view = new CandidateView(options.StripFinalAnswer, options.FinalAnswerMarker);
        var judged = candidates.Select(c => view.JudgedText(c.Text)).ToArray();
        var kept = new List<DpoPair>();
        var dropped = new List<DroppedPair>();
        IReadOnlyList<JudgeResult> results;
        if (options.Mode == DpoJudgeMode.Pairwise)
        {
            int n = candidates.Count;
            var pairs = Enumerable.Range(0, n).SelectMany(a => Enumerable.Range(a + 1, n - a - 1).Select(b => (A: a, B: b))).ToList();
            results = judge.Judge(pairs.Select(p => item.ToRequest($"{item.Id}#p{p.A}-{p.B}", JudgeTask.Pairwise, [judged[p.A], judged[p.B]])).ToArray(), ct);
            for (int m = 0; m < pairs.Count; m++)
            {
                Decide(candidates, pairs[m].A, pairs[m].B, results[m], kept, dropped);
            }
        }
        else
        {
            results = judge.Judge(judged.Select((t, i) => item.ToRequest($"{item.Id}#c{i}", JudgeTask.Pointwise, [t])).ToArray(), ct);
            Extremes(candidates, results, kept, dropped);
        }

        bool allFailed = results.Count > 0 && results.All(r => r.Status == "error");
        return new DpoRecord
        {
            Id = item.Id,
            Status = allFailed ? "error" : "ok",
            Error = allFailed ? results[0].Error : null,
            Mode = options.Mode,
            Prompt = item,
            Candidates = candidates,
            Pairs = kept,
            Dropped = dropped,
            Judgments = results,
            ParseFailures = results.Count(r => r.Status == "unparsed"),
            JudgeErrors = results.Count(r => r.Status == "error"),
        };
    }

    private void Decide(IReadOnlyList<Candidate> c, int a, int b, JudgeResult r, List<DpoPair> kept, List<DroppedPair> dropped)
    {
        void Drop(string reason, string? detail) => dropped.Add(new DroppedPair(a, b, reason, detail, r.Id));
        if (r.Status == "error")
        {
            Drop(DpoDropReasons.JudgeError, r.Error);
            return;
        }

        // Both orders must have been read before agreement can be judged; a disagreement is dropped even when the
        // judge options would have turned it into a tie.
        if (r.OrdersAgree == false)
        {
            var orders = r.Samples.GroupBy(s => s.Order).Select(g => $"{g.Key}: {string.Join("/", g.Select(s => s.Verdict.Outcome ?? s.Verdict.Kind))}");
            Drop(DpoDropReasons.OrdersDisagree, string.Join("; ", orders));
            return;
        }

        if (r.Status != "ok" || r.Verdict is null)
        {
            Drop(DpoDropReasons.Unparsed, r.Verdict?.Reason);
            return;
        }

        switch (r.Verdict.Outcome)
        {
            case "tie":
                Drop(DpoDropReasons.Tie, null);
                return;
            case "both_bad":
                Drop(DpoDropReasons.BothBad, null);
                return;
        }

        bool aWins = r.Verdict.Outcome == "A";
        double? sa = r.Verdict.ScoreA, sb = r.Verdict.ScoreB;
        if (options.MinMargin > 0)
        {
            if (sa is not { } x || sb is not { } y)
            {
                Drop(DpoDropReasons.BelowMargin, "the verdict carries no scores to measure a margin");
                return;
            }

            if (Math.Abs(x - y) < options.MinMargin)
            {
                Drop(DpoDropReasons.BelowMargin, $"mean scores {x} vs {y}, margin {Math.Abs(x - y)} < {options.MinMargin}");
                return;
            }
        }

        var (w, l) = aWins ? (a, b) : (b, a);
        kept.Add(new DpoPair(w, l, c[w].Text, c[l].Text, r.Id, aWins ? sa : sb, aWins ? sb : sa));
    }

    private void Extremes(IReadOnlyList<Candidate> c, IReadOnlyList<JudgeResult> results, List<DpoPair> kept, List<DroppedPair> dropped)
    {
        var scored = results.Select((r, i) => (Index: i, Score: r.Status == "ok" ? r.Verdict?.Score : null)).Where(x => x.Score is not null).ToList();
        if (scored.Count < 2)
        {
            string detail = $"{scored.Count} of {results.Count} candidates got a score";
            dropped.Add(new DroppedPair(0, c.Count - 1, results.Any(r => r.Status == "error") ? DpoDropReasons.JudgeError : DpoDropReasons.TooFewScored, detail, null));
            return;
        }

        // Best: highest score, earliest candidate on ties; worst: lowest score, latest candidate on ties.
        var best = scored.OrderByDescending(x => x.Score).ThenBy(x => x.Index).First();
        var worst = scored.OrderBy(x => x.Score).ThenByDescending(x => x.Index).First();
        double margin = best.Score!.Value - worst.Score!.Value;
        string judgment = results[best.Index].Id;
        if (margin == 0)
        {
            dropped.Add(new DroppedPair(best.Index, worst.Index, DpoDropReasons.EqualScores, $"all scored candidates got {best.Score}", judgment));
        }
        else if (margin < options.MinMargin)
        {
            dropped.Add(new DroppedPair(best.Index, worst.Index, DpoDropReasons.BelowMargin, $"scores {best.Score} vs {worst.Score}, margin {margin} < {options.MinMargin}", judgment));
        }
        else
        {
            kept.Add(new DpoPair(best.Index, worst.Index, c[best.Index].Text, c[worst.Index].Text, $"{judgment},{results[worst.Index].Id}", best.Score, worst.Score));
        }
    }
}

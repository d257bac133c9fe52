using JudgeHost.Abstractions;
using JudgeHost.Judging;

namespace JudgeHost.Pipelines;

/// <summary>Settings of a best-of-N selection.</summary>
public sealed class BestOfNOptions
{
    public const string Section = "BestOfN";

    public SelectionMethod Method { get; set; } = SelectionMethod.Pointwise;

    /// <summary>Seed of the tie-break rule (<see cref="TieBreak"/>).</summary>
    public long Seed { get; set; }

    /// <summary>Judge each candidate's reasoning with its final answer cut off (the PAMPA recipe).</summary>
    public bool StripFinalAnswer { get; set; }

    public string FinalAnswerMarker { get; set; } = CandidateView.DefaultMarker;

    public CandidateView View => new(StripFinalAnswer, FinalAnswerMarker);
}

/// <summary>
/// Picks the best of N candidates with a judge. Every judgment a prompt needs at one step goes to the judge in one
/// call, so the backend prefills the shared media + instruction prefix once and forks it for every candidate and
/// both orders of every pair. Ties are broken by <see cref="TieBreak"/>; a judgment that cannot be read is counted
/// and never becomes a score. Library use: call <see cref="Select"/> inside a generation loop.
/// </summary>
public sealed class BestOfNSelector(JudgeService judge, BestOfNOptions options)
{
    public const int MaxListwiseCandidates = 26;

    public BestOfNOptions Options => options;

    public BestOfNRecord Select(PromptItem item, IReadOnlyList<Candidate> candidates, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            throw new JudgeHostException($"Prompt '{item.Id}' has no candidates to choose from.");
        }

        var view = options.View;
        var judged = candidates.Select(c => view.JudgedText(c.Text)).ToArray();
        var state = new Selection(item, candidates, judged);
        if (candidates.Count == 1)
        {
            return state.Finish(options.Method, 0, null, parsedAny: true);
        }

        return options.Method switch
        {
            SelectionMethod.Pointwise => Pointwise(state, ct),
            SelectionMethod.Knockout => Knockout(state, ct),
            SelectionMethod.RoundRobin => RoundRobin(state, ct),
            SelectionMethod.Listwise => Listwise(state, ct),
            _ => throw new InvalidOperationException($"Unknown selection method {options.Method}."),
        };
    }

    private BestOfNRecord Pointwise(Selection s, CancellationToken ct)
    {
        var requests = s.Judged.Select((text, i) => s.Item.ToRequest($"{s.Item.Id}#c{i}", JudgeTask.Pointwise, [text])).ToArray();
        var results = s.Add(judge.Judge(requests, ct));
        for (int i = 0; i < results.Count; i++)
        {
            s.Scores[i] = results[i].Status == "ok" ? results[i].Verdict?.Score : null;
        }

        var scored = Enumerable.Range(0, s.Candidates.Count).Where(i => s.Scores[i] is not null).ToList();
        if (scored.Count == 0)
        {
            return s.Finish(SelectionMethod.Pointwise, null, null, parsedAny: false);
        }

        double best = scored.Max(i => s.Scores[i]!.Value);
        return s.Finish(SelectionMethod.Pointwise, Resolve(s, scored.Where(i => s.Scores[i] == best).ToList(), out var tie), tie, parsedAny: true);
    }

    private BestOfNRecord Knockout(Selection s, CancellationToken ct)
    {
        var alive = Enumerable.Range(0, s.Candidates.Count).ToList();
        bool parsedAny = false;
        for (int round = 1; alive.Count > 1; round++)
        {
            var pairs = Enumerable.Range(0, alive.Count / 2).Select(m => (A: alive[2 * m], B: alive[(2 * m) + 1])).ToList();
            var results = s.Add(judge.Judge(pairs.Select(p => PairRequest(s, round, p.A, p.B)).ToArray(), ct));
            var next = new List<int>();
            for (int m = 0; m < pairs.Count; m++)
            {
                var (a, b) = pairs[m];
                string outcome = Outcome(results[m]);
                int winner;
                string decidedBy = "verdict";
                if (outcome == "A")
                {
                    winner = a;
                }
                else if (outcome == "B")
                {
                    winner = b;
                }
                else
                {
                    winner = TieBreak.Pick([a, b], options.Seed, s.Item.Id);
                    decidedBy = "tie_break";
                }

                parsedAny |= results[m].Status == "ok";
                s.Matches.Add(new MatchRecord(round, a, b, outcome, results[m].OrdersAgree, winner, decidedBy, results[m].Id));
                next.Add(winner);
            }

            if (alive.Count % 2 == 1)
            {
                next.Add(alive[^1]);   // the odd one out gets a bye to the next round
            }

            alive = next;
        }

        return s.Finish(SelectionMethod.Knockout, parsedAny ? alive[0] : null, null, parsedAny);
    }

    private BestOfNRecord RoundRobin(Selection s, CancellationToken ct)
    {
        int n = s.Candidates.Count;
        var pairs = Enumerable.Range(0, n).SelectMany(a => Enumerable.Range(a + 1, n - a - 1).Select(b => (A: a, B: b))).ToList();
        var results = s.Add(judge.Judge(pairs.Select(p => PairRequest(s, 0, p.A, p.B)).ToArray(), ct));
        var wins = new double[n];
        for (int m = 0; m < pairs.Count; m++)
        {
            var (a, b) = pairs[m];
            string outcome = Outcome(results[m]);
            switch (outcome)
            {
                case "A":
                    wins[a] += 1;
                    break;
                case "B":
                    wins[b] += 1;
                    break;
                case "tie" or "both_bad":
                    wins[a] += 0.5;
                    wins[b] += 0.5;
                    break;
            }

            s.Matches.Add(new MatchRecord(0, a, b, outcome, results[m].OrdersAgree, null, "verdict", results[m].Id));
        }

        for (int i = 0; i < n; i++)
        {
            s.Wins[i] = wins[i];
        }

        if (results.All(r => r.Status != "ok"))
        {
            return s.Finish(SelectionMethod.RoundRobin, null, null, parsedAny: false);
        }

        double most = wins.Max();
        return s.Finish(SelectionMethod.RoundRobin, Resolve(s, Enumerable.Range(0, n).Where(i => wins[i] == most).ToList(), out var tie), tie, parsedAny: true);
    }

    private BestOfNRecord Listwise(Selection s, CancellationToken ct)
    {
        if (s.Candidates.Count > MaxListwiseCandidates)
        {
            throw new JudgeHostException($"Prompt '{s.Item.Id}' has {s.Candidates.Count} candidates; listwise ranking takes at most {MaxListwiseCandidates} (letters A-Z). Use --method pointwise, knockout or round-robin.");
        }

        var result = s.Add(judge.Judge([s.Item.ToRequest($"{s.Item.Id}#rank", JudgeTask.Ranking, s.Judged)], ct))[0];
        if (result.Status != "ok" || result.Verdict?.Ranking is not { } letters)
        {
            return s.Finish(SelectionMethod.Listwise, null, null, parsedAny: false);
        }

        var order = letters.Select(c => c - 'A').ToArray();
        for (int pos = 0; pos < order.Length; pos++)
        {
            s.Ranks[order[pos]] = pos + 1;
            s.Scores[order[pos]] = result.Verdict.Scores?[order[pos]];
        }

        // With scores, every candidate sharing the top score is tied; the ranking's own order among them is the
        // parser's (earlier candidate first), so the stated seeded rule decides instead.
        var top = result.Verdict.Scores is { } scores
            ? Enumerable.Range(0, order.Length).Where(i => scores[i] == scores.Max()).ToList()
            : [order[0]];
        return s.Finish(SelectionMethod.Listwise, Resolve(s, top, out var tie), tie, parsedAny: true);
    }

    private JudgeRequest PairRequest(Selection s, int round, int a, int b) =>
        s.Item.ToRequest($"{s.Item.Id}#m{round}.{a}-{b}", JudgeTask.Pairwise, [s.Judged[a], s.Judged[b]]);

    private int Resolve(Selection s, List<int> tied, out TieBreakRecord? tie)
    {
        if (tied.Count == 1)
        {
            tie = null;
            return tied[0];
        }

        int picked = TieBreak.Pick(tied, options.Seed, s.Item.Id);
        tie = new TieBreakRecord(tied, picked, $"seed {options.Seed}: {TieBreak.Rule}");
        return picked;
    }

    /// <summary>The outcome of a pairwise judgment as a string: A, B, tie, both_bad, unparsed or error.</summary>
    public static string Outcome(JudgeResult result) => result.Status switch
    {
        "ok" => result.Verdict?.Outcome ?? "unparsed",
        "error" => "error",
        _ => "unparsed",
    };

    private sealed class Selection(PromptItem item, IReadOnlyList<Candidate> candidates, string[] judged)
    {
        public PromptItem Item => item;

        public IReadOnlyList<Candidate> Candidates => candidates;

        public string[] Judged => judged;

        public double?[] Scores { get; } = new double?[candidates.Count];

        public double?[] Wins { get; } = new double?[candidates.Count];

        public int?[] Ranks { get; } = new int?[candidates.Count];

        public List<MatchRecord> Matches { get; } = [];

        public List<JudgeResult> Judgments { get; } = [];

        private bool AllFailed => Judgments.Count > 0 && Judgments.All(j => j.Status == "error");

        public IReadOnlyList<JudgeResult> Add(IReadOnlyList<JudgeResult> results)
        {
            Judgments.AddRange(results);
            return results;
        }

        public BestOfNRecord Finish(SelectionMethod method, int? choice, TieBreakRecord? tie, bool parsedAny) => new()
        {
            Id = item.Id,

            // When no judgment could even run (e.g. the media was rejected), the prompt failed: an error, not "no choice".
            Status = AllFailed ? "error" : parsedAny && choice is not null ? "ok" : "no_choice",
            Error = AllFailed ? Judgments[0].Error : null,
            Method = method,
            Choice = parsedAny ? choice : null,
            Chosen = parsedAny && choice is { } c ? candidates[c].Text : null,
            TieBreak = tie,
            Candidates = candidates.Select((c, i) => new CandidateOutcome(c.Index, c.Text, c.Source, c.Temperature,
                judged[i] == c.Text ? null : judged[i], Scores[i], Wins[i], Ranks[i])).ToArray(),
            Matches = Matches.Count == 0 ? null : Matches,
            Judgments = Judgments,
            ParseFailures = Judgments.Count(j => j.Status == "unparsed"),
            JudgeErrors = Judgments.Count(j => j.Status == "error"),
            Label = item.Label,
        };
    }
}

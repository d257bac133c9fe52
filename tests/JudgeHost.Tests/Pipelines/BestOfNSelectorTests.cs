using JudgeHost.Abstractions;
using JudgeHost.Judging;
using JudgeHost.Pipelines;
using JudgeHost.Tests.Judging;

namespace JudgeHost.Tests.Pipelines;

public sealed class BestOfNSelectorTests
{
    private static PromptItem Prompt(string id = "p1") => new() { Id = id, Instruction = "Which answer is best?" };

    private static BestOfNRecord Select(ScriptedBackend backend, SelectionMethod method, string[] candidates, long seed = 0, bool strip = false, string id = "p1") =>
        new BestOfNSelector(new JudgeService(backend, new JudgeOptions()), new BestOfNOptions { Method = method, Seed = seed, StripFinalAnswer = strip })
            .Select(Prompt(id), Candidate.FromInput(candidates));

    [Fact]
    public void Pointwise_PicksTheHighestScore()
    {
        var record = Select(QualityJudge.Honest(), SelectionMethod.Pointwise, ["q=2", "q=5", "q=3"]);

        Assert.Equal("ok", record.Status);
        Assert.Equal(1, record.Choice);
        Assert.Equal("q=5", record.Chosen);
        Assert.Equal([2.0, 5.0, 3.0], record.Candidates.Select(c => c.Score!.Value));
        Assert.Null(record.TieBreak);
        Assert.Equal(3, record.Judgments.Count);
        Assert.All(record.Judgments, j => Assert.Contains("<think>compared</think>", j.Samples[0].Raw, StringComparison.Ordinal));   // reasoning kept
    }

    [Fact]
    public void Pointwise_TiedTopScores_SeededRuleIsDeterministicAndDependsOnTheSeed()
    {
        string[] candidates = ["q=4", "q=4", "q=1", "q=4"];
        var picks = new HashSet<int>();
        for (long seed = 0; seed < 20; seed++)
        {
            var first = Select(QualityJudge.Honest(), SelectionMethod.Pointwise, candidates, seed);
            var again = Select(QualityJudge.Honest(), SelectionMethod.Pointwise, candidates, seed);

            Assert.Equal(first.Choice, again.Choice);
            Assert.Equal([0, 1, 3], first.TieBreak!.Tied);
            Assert.Equal(TieBreak.Pick([0, 1, 3], seed, "p1"), first.Choice);
            Assert.Contains($"seed {seed}", first.TieBreak.Rule, StringComparison.Ordinal);
            picks.Add(first.Choice!.Value);
        }

        Assert.DoesNotContain(2, picks);        // the lower score is never picked
        Assert.True(picks.Count > 1, "twenty seeds should not all break the tie the same way");
    }

    [Fact]
    public void Pointwise_UnparsedCandidate_IsCountedAndNeverChosen()
    {
        var record = Select(QualityJudge.Honest(), SelectionMethod.Pointwise, ["q=2", "no quality written", "q=3"]);

        Assert.Equal(2, record.Choice);
        Assert.Equal(1, record.ParseFailures);
        Assert.Null(record.Candidates[1].Score);
        Assert.Equal("unparsed", record.Judgments[1].Status);
    }

    [Fact]
    public void Pointwise_NothingParsed_IsNoChoiceNotADefault()
    {
        var record = Select(QualityJudge.Honest(), SelectionMethod.Pointwise, ["a", "b"]);

        Assert.Equal("no_choice", record.Status);
        Assert.Null(record.Choice);
        Assert.Null(record.Chosen);
        Assert.Equal(2, record.ParseFailures);
    }

    [Fact]
    public void StripFinalAnswer_TheJudgeScoresOnlyTheReasoning()
    {
        // The reasoning says q=2 / q=4, the cut-off final answers q=5 / q=1: stripping reverses the choice.
        string[] candidates = ["reasoning q=2\nFinal answer: q=5", "reasoning q=4\nfinal Answer: q=1"];
        var backend = QualityJudge.Honest();

        var stripped = Select(backend, SelectionMethod.Pointwise, candidates, strip: true);
        var whole = Select(QualityJudge.Honest(), SelectionMethod.Pointwise, candidates);

        Assert.Equal(1, stripped.Choice);
        Assert.Equal(candidates[1], stripped.Chosen);                        // the output carries the full candidate
        Assert.Equal("reasoning q=2", stripped.Candidates[0].JudgedText);
        Assert.All(backend.Calls, c => Assert.DoesNotContain("inal answer", c.Prompt.User, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(0, whole.Choice);
    }

    [Fact]
    public void Knockout_TheBestWins_AndEveryMatchIsJudgedInBothOrders()
    {
        var backend = QualityJudge.Honest();

        var record = Select(backend, SelectionMethod.Knockout, ["q=3", "q=1", "q=5", "q=2", "q=4"]);

        Assert.Equal("ok", record.Status);
        Assert.Equal(2, record.Choice);
        // 5 candidates: round 1 has 2 matches and a bye, round 2 one match and a bye, round 3 the final.
        Assert.Equal([1, 1, 2, 3], record.Matches!.Select(m => m.Round));
        Assert.All(record.Matches!, m => Assert.Equal("verdict", m.DecidedBy));
        Assert.All(record.Matches!, m => Assert.True(m.OrdersAgree));
        Assert.Equal(8, backend.Calls.Count);                                // 4 matches x 2 orders
        foreach (var match in record.Matches!)
        {
            var shown = backend.Calls.Select(c => QualityJudge.Candidates(c.Prompt)).Where(c => c.Count == 2).ToList();
            string a = $"q={QualityJudge.Quality(record.Candidates[match.A].Text)}", b = $"q={QualityJudge.Quality(record.Candidates[match.B].Text)}";
            Assert.Contains(shown, s => s[0] == a && s[1] == b);
            Assert.Contains(shown, s => s[0] == b && s[1] == a);
        }
    }

    [Fact]
    public void Knockout_PositionBiasedJudge_DisagreementsAreTiesBrokenByTheSeededRule()
    {
        var record = Select(QualityJudge.PositionBiased(), SelectionMethod.Knockout, ["q=1", "q=2", "q=3", "q=4"], seed: 7);

        Assert.All(record.Matches!, m =>
        {
            Assert.Equal("tie", m.Outcome);
            Assert.False(m.OrdersAgree);
            Assert.Equal("tie_break", m.DecidedBy);
            Assert.Equal(TieBreak.Pick([m.A, m.B], 7, "p1"), m.Winner);
        });
        Assert.Equal(record.Matches![^1].Winner, record.Choice);
    }

    [Fact]
    public void RoundRobin_MostWinsWins_AndWinsAreReported()
    {
        var backend = QualityJudge.Honest();

        var record = Select(backend, SelectionMethod.RoundRobin, ["q=2", "q=5", "q=3"]);

        Assert.Equal(1, record.Choice);
        Assert.Equal([0.0, 2.0, 1.0], record.Candidates.Select(c => c.Wins!.Value));
        Assert.Equal(3, record.Matches!.Count);
        Assert.Equal(6, backend.Calls.Count);   // 3 pairs x 2 orders
    }

    [Fact]
    public void RoundRobin_EqualWins_AreBrokenBySeed()
    {
        // Three candidates in a cycle cannot come from an honest judge; equal qualities give ties everywhere.
        var record = Select(QualityJudge.Honest(), SelectionMethod.RoundRobin, ["q=3", "q=3", "q=3"], seed: 3);

        Assert.Equal([1.0, 1.0, 1.0], record.Candidates.Select(c => c.Wins!.Value));
        Assert.Equal(TieBreak.Pick([0, 1, 2], 3, "p1"), record.Choice);
        Assert.NotNull(record.TieBreak);
    }

    [Fact]
    public void Listwise_TheTopOfTheRankingWins()
    {
        var record = Select(QualityJudge.Honest(), SelectionMethod.Listwise, ["q=2", "q=5", "q=3"]);

        Assert.Equal(1, record.Choice);
        Assert.Equal([3, 1, 2], record.Candidates.Select(c => c.Rank!.Value));
        Assert.Equal("ranking", Assert.Single(record.Judgments).Task);
    }

    [Fact]
    public void Listwise_MoreThan26Candidates_IsAUserError()
    {
        var candidates = Enumerable.Range(0, 27).Select(i => $"q={(i % 5) + 1}").ToArray();

        var e = Assert.Throws<JudgeHostException>(() => Select(QualityJudge.Honest(), SelectionMethod.Listwise, candidates));

        Assert.Contains("at most 26", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SelectionMethod.Pointwise, 4)]      // N candidates, one prompt each
    [InlineData(SelectionMethod.RoundRobin, 12)]    // C(4,2) pairs x 2 orders
    public void OneStep_GoesToTheBackendInOneCall_AllPromptsSharingOnePrefix(SelectionMethod method, int prompts)
    {
        var backend = new CountingBackend(QualityJudge.Honest());
        var selector = new BestOfNSelector(new JudgeService(backend, new JudgeOptions()), new BestOfNOptions { Method = method });

        selector.Select(Prompt() with { Media = [new MediaRef("image", "cat.png")] }, Candidate.FromInput(["q=1", "q=2", "q=3", "q=4"]));

        var call = Assert.Single(backend.Batches);
        Assert.Equal(prompts, call.Count);
        var prefixes = call.Select(p => (p.System, Prefix: p.User[..p.SharedPrefixLength])).Distinct().ToList();
        var prefix = Assert.Single(prefixes);
        Assert.Contains("Which answer is best?", prefix.Prefix, StringComparison.Ordinal);
        Assert.All(call, p => Assert.Single(p.Media));
    }

    private sealed class CountingBackend(IJudgeBackend inner) : IJudgeBackend
    {
        public List<IReadOnlyList<JudgePrompt>> Batches { get; } = [];

        public IReadOnlySet<string> Modalities => inner.Modalities;

        public IReadOnlyList<GenerationOutput> Generate(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, CancellationToken cancellationToken = default)
        {
            Batches.Add(prompts);
            return inner.Generate(prompts, settings, cancellationToken);
        }
    }
}

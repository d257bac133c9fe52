using JudgeHost.Judging;

namespace JudgeHost.Tests.Judging;

public sealed class JudgeServiceTests
{
    private static JudgeRequest Pair(string id, string a, string b) =>
        new() { Id = id, Task = JudgeTask.Pairwise, Instruction = "Which is right?", Candidates = [a, b] };

    [Fact]
    public void Pairwise_BothOrdersAgree_KeepsTheVerdict()
    {
        // The "model" always prefers the candidate "good", wherever it is shown.
        var backend = new ScriptedBackend(p => ScriptedBackend.FirstCandidate(p) == "good"
            ? "<think>first is good</think><answer>9</answer><answer>2</answer>"
            : "<think>second is good</think><answer>2</answer><answer>9</answer>");
        var judge = new JudgeService(backend, new JudgeOptions());

        var result = Assert.Single(judge.Judge([Pair("p1", "good", "bad")]));

        Assert.Equal("ok", result.Status);
        Assert.Equal("A", result.Verdict!.Outcome);
        Assert.True(result.OrdersAgree);
        Assert.Equal(["AB", "BA"], result.Samples.Select(s => s.Order));
        Assert.Equal("A", result.Samples[1].Verdict.Outcome);    // the swapped sample is reported in original terms
        Assert.Equal(9, result.Verdict.ScoreA);
    }

    [Theory]
    [InlineData(DisagreementPolicy.Tie, "ok", "tie")]              // default: disagreement is a tie
    [InlineData(DisagreementPolicy.KeepFirst, "ok", "A")]          // trust the original order
    [InlineData(DisagreementPolicy.Drop, "unparsed", null)]        // no verdict
    public void Pairwise_PositionBiasedJudge_FollowsThePolicy(DisagreementPolicy policy, string status, string? outcome)
    {
        // A position-biased "model": always prefers whatever is shown first.
        var backend = new ScriptedBackend(_ => "<think>first wins</think><answer>8</answer><answer>3</answer>");
        var judge = new JudgeService(backend, new JudgeOptions { Disagreement = policy });

        var result = Assert.Single(judge.Judge([Pair("p", "x", "y")]));

        Assert.Equal(status, result.Status);
        Assert.Equal(outcome, result.Verdict!.Outcome);
        Assert.False(result.OrdersAgree);
    }

    [Fact]
    public void Voting_MajorityWins_AndUnparsedSamplesAreCountedNotVoted()
    {
        int call = 0;
        string[] outputs =
        [
            "<think>a</think><answer>4</answer>", "<think>b</think><answer>5</answer>",
            "<think>c</think>no tag here", "<think>d</think><answer>3</answer>",
        ];
        var backend = new ScriptedBackend(_ => outputs[call++ % outputs.Length]);
        var judge = new JudgeService(backend, new JudgeOptions { Samples = 4, Temperature = 0.7f });
        var request = new JudgeRequest { Id = "s", Task = JudgeTask.Pointwise, Instruction = "Rate", Candidates = ["x"] };

        var result = Assert.Single(judge.Judge([request]));

        Assert.Equal(4, result.Samples.Count);
        Assert.Equal(1, result.UnparsedSamples);
        Assert.Equal(4.0, result.Verdict!.Score);   // mean of the three parsed scores
    }

    [Fact]
    public void BadRequest_BecomesAnErrorRecord_OthersAreStillJudged()
    {
        var backend = new ScriptedBackend(_ => "<think>x</think><answer>yes</answer>");
        var judge = new JudgeService(backend, new JudgeOptions());
        JudgeRequest[] requests =
        [
            new() { Id = "bad", Task = JudgeTask.Pairwise, Instruction = "Q", Candidates = ["only one"] },
            new() { Id = "good", Task = JudgeTask.Binary, Instruction = "Is the text safe?", Aspect = "safety", Candidates = ["hello"] },
        ];

        var results = judge.Judge(requests);

        Assert.Equal("error", results[0].Status);
        Assert.Contains("needs exactly 2 candidates; it has 1", results[0].Error, StringComparison.Ordinal);
        Assert.Equal("ok", results[1].Status);
        Assert.True(results[1].Verdict!.Yes);
    }

    [Fact]
    public void RandomWeightsStyleGarbage_IsUnparsedWithTheRawText()
    {
        var backend = new ScriptedBackend(_ => "ÅÅ!! ragged tokens");
        var judge = new JudgeService(backend, new JudgeOptions());

        var result = Assert.Single(judge.Judge([Pair("g", "a", "b")]));

        Assert.Equal("unparsed", result.Status);
        Assert.Contains("unparsed", result.Verdict!.Reason, StringComparison.Ordinal);
        Assert.All(result.Samples, s => Assert.Equal("ÅÅ!! ragged tokens", s.Raw));
    }

    [Fact]
    public void BudgetForcing_EarlyClose_AppendsWaitAndContinues()
    {
        // The model closes its reasoning immediately the first time, and reasons at length after "Wait".
        var backend = new ScriptedBackend(p => p.AssistantPrefix.EndsWith("Wait", StringComparison.Ordinal)
            ? ", let me check more carefully step by step.</think><answer>4</answer>"
            : p.AssistantPrefix.Contains("</think>", StringComparison.Ordinal) ? "<answer>4</answer>" : "ok</think><answer>1</answer>");
        var judge = new JudgeService(backend, new JudgeOptions { MinThinkingTokens = 20 });
        var request = new JudgeRequest { Id = "b", Task = JudgeTask.Pointwise, Instruction = "Rate", Candidates = ["x"] };

        var result = Assert.Single(judge.Judge([request]));
        var sample = Assert.Single(result.Samples);

        Assert.Equal(1, sample.Waits);
        Assert.StartsWith("okWait, let me check", sample.Raw, StringComparison.Ordinal);
        Assert.Equal(4.0, result.Verdict!.Score);
    }

    [Fact]
    public void BudgetForcing_OverlongReasoning_IsCutAndTheAnswerForced()
    {
        var backend = new ScriptedBackend(p => p.AssistantPrefix.EndsWith("<answer>", StringComparison.Ordinal)
            ? "3</answer>"
            : new string('r', 500));
        var judge = new JudgeService(backend, new JudgeOptions { MaxThinkingTokens = 50 });
        var request = new JudgeRequest { Id = "m", Task = JudgeTask.Pointwise, Instruction = "Rate", Candidates = ["x"] };

        var sample = Assert.Single(Assert.Single(judge.Judge([request])).Samples);

        Assert.True(sample.ForcedAnswer);
        Assert.Equal(new string('r', 50) + "\n</think>\n<answer>3</answer>", sample.Raw);
        Assert.Equal(3.0, sample.Verdict.Score);
    }

    [Fact]
    public void Truncated_WithoutBudgetForcing_IsUnparsedTruncated()
    {
        var backend = new ScriptedBackend(_ => "<think>" + new string('r', 5000));
        var judge = new JudgeService(backend, new JudgeOptions { MaxNewTokens = 100 });
        var request = new JudgeRequest { Id = "t", Task = JudgeTask.Pointwise, Instruction = "Rate", Candidates = ["x"] };

        var result = Assert.Single(judge.Judge([request]));

        Assert.True(result.Samples[0].Truncated);
        Assert.StartsWith("truncated", result.Verdict!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Prompts_ShareTheirPrefix_AcrossOrders()
    {
        var backend = new ScriptedBackend(_ => "<think>x</think><answer>5</answer><answer>5</answer>");
        var judge = new JudgeService(backend, new JudgeOptions());

        judge.Judge([Pair("p", "alpha", "beta")]);

        var (first, second) = (backend.Calls[0].Prompt, backend.Calls[1].Prompt);
        Assert.Equal(first.User[..first.SharedPrefixLength], second.User[..second.SharedPrefixLength]);
        Assert.Equal(first.System, second.System);
        Assert.EndsWith("[Assistant 2's Answer]\nbeta", first.User, StringComparison.Ordinal);
        Assert.EndsWith("[Assistant 2's Answer]\nalpha", second.User, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_VotingWithGreedy_IsRejected()
    {
        var judge = new JudgeService(new ScriptedBackend(_ => ""), new JudgeOptions { Samples = 3 });
        var e = Assert.Throws<JudgeHost.Abstractions.JudgeHostException>(() => judge.Judge([Pair("p", "a", "b")]));
        Assert.Contains("temperature", e.Message, StringComparison.Ordinal);
    }
}

using JudgeHost.Judging;

namespace JudgeHost.Tests.Judging;

public sealed class NamedTemplateTests
{
    private const string ReferenceGenAiImageSystem =
        "You are a helpful assistant. The assistant first performs a detailed, "
        + "step-by-step reasoning process in its mind and then provides the user with "
        + "the answer. The reasoning process and answer are enclosed within <think> "
        + "</think> and <answer> </answer> tags, respectively, i.e., <think> detailed "
        + "reasoning process here, explaining each step of your evaluation for both "
        + "assistants </think><answer> answer here </answer>. Now the user asks you "
        + "to judge the performance of two AI assistants. You have only FOUR Option:\n"
        + "Option 1. Model A is better: [[A>B]]\n"
        + "Option 2. Model B is better: [[B>A]]\n"
        + "Option 3. Tie, relatively the same acceptable quality: [[A=B=Good]]\n"
        + "Option 4. Both are bad: [[A=B=Bad]]\n"
        + "Assess the quality of generated images. Consider inappropriateness the following sub-dimensions: "
        + "Alignment with prompt, Naturalness, Artifact, "
        + "and Visual Appealing, are correctly represented. Avoid order, length, style or "
        + "other bias. After thinking, when you finally reach a conclusion, clearly "
        + "provide your evaluation option within <answer> </answer> tags. i.e., for "
        + "example, <answer>[[B>A]]</answer>.";

    [Fact]
    public void PairwiseBrackets_Default_RendersTheGenAiBenchImagePrompt()
    {
        var prompt = DefaultTemplates.PairwiseBrackets.Render(new PromptValues("", "a red cube", null, "1", "10"), ["x", "y"]);

        Assert.Equal(ReferenceGenAiImageSystem, prompt.System);
        Assert.Equal("[Question]\na red cube\n\n[Assistant A's Answer]\nx\n\n[Assistant B's Answer]\ny", prompt.User);
    }

    [Fact]
    public void RequestTemplate_BracketsAndDecimal_AreParsedWithTheirFormats()
    {
        var backend = new ScriptedBackend(p => p.System.Contains("FOUR Option", StringComparison.Ordinal)
            ? "<think>x</think><answer>[[A=B=Bad]]</answer>"
            : "<think>x</think><answer>7.5</answer>");
        var judge = new JudgeService(backend, new JudgeOptions());
        JudgeRequest[] requests =
        [
            new() { Id = "b", Task = JudgeTask.Pairwise, Instruction = "Q", Candidates = ["x", "y"], Template = "pairwise_brackets" },
            new() { Id = "d", Task = JudgeTask.Pointwise, Instruction = "Q", Candidates = ["x"], Template = "pointwise_decimal", Scale = new ScoreScale(1.0, 10.0) },
            new() { Id = "u", Task = JudgeTask.Pointwise, Instruction = "Q", Candidates = ["x"], Template = "no_such_template" },
            new() { Id = "m", Task = JudgeTask.Pointwise, Instruction = "Q", Candidates = ["x"], Template = "pairwise" },
        ];

        var results = judge.Judge(requests);

        Assert.Equal("both_bad", results[0].Verdict!.Outcome);
        Assert.Equal(7.5, results[1].Verdict!.Score);
        Assert.Contains("neither built in", results[2].Error, StringComparison.Ordinal);
        Assert.Contains("does not fit that task", results[3].Error, StringComparison.Ordinal);
    }
}

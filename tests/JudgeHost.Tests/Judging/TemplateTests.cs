using JudgeHost.Judging;

namespace JudgeHost.Tests.Judging;

/// <summary>
/// Golden checks: with default criteria and scale the templates render exactly the strings of the reference
/// (flex-judge test/mllm_as_a_judge_vllm.py), which the Flex-Judge checkpoints were evaluated with.
/// </summary>
public sealed class TemplateTests
{
    private const string Image = "<|vision_start|><|image_pad|><|vision_end|>\n\n";

    private const string ReferencePairSystem =
        "You are a helpful assistant. The assistant first performs a detailed, "
        + "step-by-step reasoning process in its mind and then provides the user with "
        + "the answer. The reasoning process and answer are enclosed within <think> "
        + "</think> and <answer> </answer> tags, respectively, i.e., <think> detailed "
        + "reasoning process here, explaining each step of your evaluation for both "
        + "assistants </think><answer> answer here </answer>. Now the user asks you "
        + "to judge the performance of two AI assistants in response to the question. "
        + "Score assistants 1-10 (higher=better). Criteria includes helpfulness, "
        + "relevance, accuracy, and level of detail. Avoid order, length, style or "
        + "other bias. After thinking, when you finally reach a conclusion, clearly "
        + "provide your evaluation scores within <answer> </answer> tags, i.e., for "
        + "example,<answer>3</answer><answer>5</answer>";

    private const string ReferenceScoreSystem =
        "You are a helpful assistant. The assistant first performs a detailed, "
        + "step-by-step reasoning process in its mind and then provides the user with "
        + "the answer. The reasoning process and answer are enclosed within <think> "
        + "</think> and <answer> </answer> tags, respectively, i.e., <think> detailed "
        + "reasoning process here, explaining each step of your evaluation for both "
        + "assistants </think><answer> answer here </answer>. Now the user asks you "
        + "to judge the performance of an AI assistants in response to the question. "
        + "Score assistants 1-5 (higher=better). Criteria includes helpfulness, "
        + "relevance, accuracy, and level of detail. Avoid length, style or "
        + "other bias. After thinking, when you finally reach a conclusion, clearly "
        + "provide your evaluation scores within <answer> </answer> tags, i.e., for "
        + "example, <answer>3</answer>";

    private const string ReferenceBatchSystem =
        "You are a helpful assistant. The assistant first performs a detailed, "
        + "step-by-step reasoning process in its mind and then provides the user with "
        + "the answer. The reasoning process and answer are enclosed within <think> "
        + "</think> and <answer> </answer> tags, respectively, i.e., <think> detailed "
        + "reasoning process here, explaining each step of your evaluation for both "
        + "assistants </think><answer> answer here </answer>. Now the user asks you "
        + "to judge the performance of multiple AI assistants in response to the question. "
        + "Score assistants 1-10 (higher=better). Criteria includes helpfulness, "
        + "relevance, accuracy, and level of detail. DO NOT assign the same score to multiple assistants. "
        + "Avoid length, style or other bias. After thinking, when you finally reach a conclusion, clearly "
        + "provide your evaluation scores within <answer> </answer> tags, i.e., for "
        + "example, <answer>3</answer><answer>8</answer><answer>6</answer>";

    [Fact]
    public void Pairwise_Default_RendersTheReferencePairPrompt()
    {
        var prompt = DefaultTemplates.Pairwise.Render(new PromptValues(Image, "What is shown?", null, "1", "10"), ["A cat.", "A dog."]);

        Assert.Equal(ReferencePairSystem, prompt.System);
        Assert.Equal(Image + "[Question]\nWhat is shown?\n\n[Assistant 1's Answer]\nA cat.\n\n[Assistant 2's Answer]\nA dog.", prompt.User);
        Assert.Equal(Image + "[Question]\nWhat is shown?\n\n", prompt.UserPrefix);
    }

    [Fact]
    public void Pointwise_Default_RendersTheReferenceScorePrompt()
    {
        var prompt = DefaultTemplates.Pointwise.Render(new PromptValues(Image, "Q?", null, "1", "5"), ["Answer."]);

        Assert.Equal(ReferenceScoreSystem, prompt.System);
        Assert.Equal(Image + "[Question]\nQ?\n\n[Assistant's Answer]\nAnswer.", prompt.User);
    }

    [Fact]
    public void Ranking_Default_RendersTheReferenceBatchPrompt()
    {
        var prompt = DefaultTemplates.Ranking.Render(new PromptValues(Image, "Q?", null, "1", "10"), ["one", "two", "three"]);

        Assert.Equal(ReferenceBatchSystem, prompt.System);
        // The reference builds "[Assistant i's Answer]\n{a}\n\n" per answer and strips the trailing whitespace.
        Assert.Equal(Image + "[Question]\nQ?\n\n[Assistant 1's Answer]\none\n\n[Assistant 2's Answer]\ntwo\n\n[Assistant 3's Answer]\nthree", prompt.User);
    }

    [Fact]
    public void Criteria_FromRequest_ReplaceTheDefaultSentence()
    {
        var prompt = DefaultTemplates.Pairwise.Render(new PromptValues("", "Q", "Judge only factual accuracy.", "1", "10"), ["a", "b"]);

        Assert.Contains("(higher=better). Judge only factual accuracy. Avoid order", prompt.System, StringComparison.Ordinal);
        Assert.DoesNotContain("helpfulness", prompt.System, StringComparison.Ordinal);
    }

    [Fact]
    public void Prefix_IsIdenticalForEveryCandidateSet()
    {
        var values = new PromptValues(Image, "Q", null, "1", "10");
        var first = DefaultTemplates.Pairwise.Render(values, ["x", "y"]);
        var swapped = DefaultTemplates.Pairwise.Render(values, ["y", "x"]);

        Assert.Equal(first.System, swapped.System);
        Assert.Equal(first.UserPrefix, swapped.UserPrefix);
        Assert.NotEqual(first.User, swapped.User);
    }

    [Fact]
    public void Load_UserTemplateFile_IsUsed()
    {
        using var dir = new TempDir();
        string path = dir.Combine("t.json");
        File.WriteAllText(path, """{"system":"Rate {min} to {max}.","prefix":"Q: {question}\n","candidate":"A{i}: {answer}","separator":"\n"}""");

        var prompt = JudgeTemplate.Load(path).Render(new PromptValues("", "why?", null, "0", "3"), ["a", "b"]);

        Assert.Equal("Rate 0 to 3.", prompt.System);
        Assert.Equal("Q: why?\nA1: a\nA2: b", prompt.User);
    }

    [Fact]
    public void Load_BrokenTemplateFile_IsUserError()
    {
        using var dir = new TempDir();
        string path = dir.Combine("bad.json");
        File.WriteAllText(path, """{"system": 3}""");

        var e = Assert.Throws<JudgeHost.Abstractions.JudgeHostException>(() => JudgeTemplate.Load(path));
        Assert.Contains("bad.json", e.Message, StringComparison.Ordinal);
    }
}

namespace JudgeHost.Judging;

/// <summary>
/// The default prompts. Pairwise, pointwise and ranking reproduce the Flex-Judge / JudgeLRM prompts the judges were
/// trained and evaluated with (flex-judge test/mllm_as_a_judge_vllm.py: pair, score and batch splits) word for word,
/// including their spacing; with default criteria and scale the rendered text is identical. The binary template
/// follows the same skeleton for MT-RL-Judge style yes/no aspects.
/// </summary>
public static class DefaultTemplates
{
    private const string Preamble =
        "You are a helpful assistant. The assistant first performs a detailed, step-by-step reasoning process in its mind and then provides the user with "
        + "the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> detailed "
        + "reasoning process here, explaining each step of your evaluation for both assistants </think><answer> answer here </answer>. ";

    private const string ReferenceCriteria = "Criteria includes helpfulness, relevance, accuracy, and level of detail.";

    public static JudgeTemplate Pairwise { get; } = new()
    {
        System = Preamble
            + "Now the user asks you to judge the performance of two AI assistants in response to the question. Score assistants {min}-{max} (higher=better). "
            + "{criteria} Avoid order, length, style or other bias. After thinking, when you finally reach a conclusion, clearly provide your evaluation scores "
            + "within <answer> </answer> tags, i.e., for example,<answer>3</answer><answer>5</answer>",
        Prefix = "{media}[Question]\n{question}\n\n",
        Candidate = "[Assistant {i}'s Answer]\n{answer}",
        DefaultCriteria = ReferenceCriteria,
        Answer = "pair_scores",
    };

    public static JudgeTemplate Pointwise { get; } = new()
    {
        System = Preamble
            + "Now the user asks you to judge the performance of an AI assistants in response to the question. Score assistants {min}-{max} (higher=better). "
            + "{criteria} Avoid length, style or other bias. After thinking, when you finally reach a conclusion, clearly provide your evaluation scores "
            + "within <answer> </answer> tags, i.e., for example, <answer>3</answer>",
        Prefix = "{media}[Question]\n{question}\n\n",
        Candidate = "[Assistant's Answer]\n{answer}",
        DefaultCriteria = ReferenceCriteria,
        Answer = "score",
    };

    public static JudgeTemplate Ranking { get; } = new()
    {
        System = Preamble
            + "Now the user asks you to judge the performance of multiple AI assistants in response to the question. Score assistants {min}-{max} (higher=better). "
            + "{criteria} DO NOT assign the same score to multiple assistants. Avoid length, style or other bias. After thinking, when you finally reach a "
            + "conclusion, clearly provide your evaluation scores within <answer> </answer> tags, i.e., for example, <answer>3</answer><answer>8</answer><answer>6</answer>",
        Prefix = "{media}[Question]\n{question}\n\n",
        Candidate = "[Assistant {i}'s Answer]\n{answer}",
        DefaultCriteria = ReferenceCriteria,
        Answer = "ranking_scores",
    };

    public static JudgeTemplate Binary { get; } = new()
    {
        System = Preamble
            + "Now the user asks you a yes-or-no question about {aspect}. {criteria} Avoid length, style or other bias. After thinking, when you finally reach "
            + "a conclusion, clearly provide your answer, yes or no, within <answer> </answer> tags, i.e., for example, <answer>yes</answer>",
        Prefix = "{media}[Question]\n{question}",
        Candidate = "\n\n[Assistant's Answer]\n{answer}",
        Separator = "",
        DefaultCriteria = "Answer yes only when it clearly holds.",
        Answer = "yes_no",
    };

    public static JudgeTemplate For(JudgeTask task) => task switch
    {
        JudgeTask.Pointwise => Pointwise,
        JudgeTask.Pairwise => Pairwise,
        JudgeTask.Ranking => Ranking,
        JudgeTask.Binary => Binary,
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, "Unknown task."),
    };
}

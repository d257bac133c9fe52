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

    /// <summary>
    /// GenAI-Bench's four-option bracket verdict (flex-judge test/genai_bench_vllm.py, image split): with default
    /// criteria the system prompt is the reference's word for word.
    /// </summary>
    public static JudgeTemplate PairwiseBrackets { get; } = new()
    {
        System = Preamble
            + "Now the user asks you to judge the performance of two AI assistants. You have only FOUR Option:\n"
            + "Option 1. Model A is better: [[A>B]]\nOption 2. Model B is better: [[B>A]]\n"
            + "Option 3. Tie, relatively the same acceptable quality: [[A=B=Good]]\nOption 4. Both are bad: [[A=B=Bad]]\n"
            + "{criteria} Avoid order, length, style or other bias. After thinking, when you finally reach a conclusion, clearly provide your evaluation "
            + "option within <answer> </answer> tags. i.e., for example, <answer>[[B>A]]</answer>.",
        Prefix = "{media}[Question]\n{question}\n\n",
        Candidate = "[Assistant {letter}'s Answer]\n{answer}",
        DefaultCriteria = "Assess the quality of generated images. Consider inappropriateness the following sub-dimensions: Alignment with prompt, Naturalness, Artifact, and Visual Appealing, are correctly represented.",
        Answer = "pair_brackets",
    };

    /// <summary>A single score with one decimal (the Flex-Omni MOS and Flex-Mol styles), scale from the request.</summary>
    public static JudgeTemplate PointwiseDecimal { get; } = new()
    {
        System = Preamble.Replace("for both assistants", "for an AI assistant", StringComparison.Ordinal)
            + "Now the user asks you to judge the performance of an AI assistant in response to the question. Score the assistant on a scale from {min} to {max} "
            + "in first decimal (higher=better). {criteria} Avoid length, style or other bias. After thinking, when you finally reach a conclusion, clearly provide "
            + "your evaluation score within <answer> </answer> tags, i.e., for example, <answer>3.8</answer>",
        Prefix = "{media}[Question]\n{question}\n\n",
        Candidate = "[Assistant's Answer]\n{answer}",
        DefaultCriteria = ReferenceCriteria,
        Answer = "score",
    };

    /// <summary>
    /// Flex-Mol-LLaMA's PAMPA judge (flex-judge <c>example/pampa/prompts.py</c>, JUDGE_PROTOCOL §6.4): one reasoning
    /// scored 1.0–10.0 in first decimal against eight permeability sub-dimensions, the candidate cut before its final
    /// answer, no <c>&lt;think&gt;</c> prefill. The system prompt is the reference's word for word (two leading newlines,
    /// "FISRT" as written); with the instruction "Predict the permeability … high or low-to-moderate.\nMolecule
    /// &lt;mol&gt;." the user text is too.
    /// </summary>
    public static JudgeTemplate MolPampa { get; } = new()
    {
        System = "\n\n" + Preamble.Replace("for both assistants", "for an AI assistant", StringComparison.Ordinal)
            + "Now the user asks you to judge the prediction of an AI assistant, by analyzing the given molecule. Score this prediction on a scale from 1.0 to 10.0 "
            + "(1 if prediction is inaccurate, 10 if prediction is accurate, and 5 if uncertain given the molecular analysis) in FISRT DECIMAL. "
            + "Consider the following sub-dimensions when analyzing the molecule:\n"
            + "1) Lipophilicity: Higher lipophilicity generally correlates with increased permeability, up to a certain threshold.\n"
            + "2) Molecular Size and Weight: Smaller molecules tend to have higher permeability.\n"
            + "3) Polarity: Low polar surface area and low hydrogen bond donors/acceptors are associated with higher permeability.\n"
            + "4) Charge: Neutral molecules typically have better permeability compared to charged species, which are less likely to diffuse through the hydrophobic lipid bilayer.\n"
            + "5) Rigidity: A high degree of rigidity often permeate membranes more easily.\n"
            + "6) Aromaticity: The presence of aromatic rings can influence lipophilicity and molecular interactions with the lipid bilayer, thereby affecting permeability.\n"
            + "7) Hydration Energy: Lower hydration energy generally improves membrane permeation.\n"
            + "8) Membrane Affinity: Compounds with a balanced affinity for both the aqueous phase and the lipid bilayer tend to exhibit better PAMPA permeability.\n"
            + "Avoid length, style or other bias. After thinking, when you finally reach a conclusion, clearly provide your evaluation scores within <answer> </answer> tags, "
            + "i.e., for example, <answer>3.8</answer>.",
        Prefix = "\n\n{media}[Question]\n\n{question}\n\n",
        Candidate = "[Assistant's Answer]\n{answer}",
        Answer = "score",
        Scale = new ScoreScale(1, 10),
        TruncateAtFinalAnswer = true,
        AssistantPrefix = "",
    };

    /// <summary>
    /// Flex-Mol-LLaMA's DPO pairwise judge (flex-judge <c>example/data_provider/prompts.py</c>, <c>judge.py</c>): two
    /// answers to a Mol-LLaMA question (the molecule inside it as &lt;mol&gt;) scored 1.0–10.0, a winner required, and
    /// the answer prefilled with <c>&lt;think&gt;</c> as the reference's <c>JudgeCollater</c> does (<c>think=True</c>).
    /// System and user text are the reference's word for word ("assitants" as written).
    /// </summary>
    public static JudgeTemplate MolPairwise { get; } = new()
    {
        System = "\n\n" + Preamble
            + "Now the user asks you to judge the performance of two AI assistants in response to the question. Score assistants on a scale from 1.0 to 10.0 (higher=better). "
            + "Criteria includes helpfulness, relevance, accuracy, and level of detail. After thinking, when you finally reach a conclusion, clearly provide your evaluation scores "
            + "within <answer> </answer> tags, i.e., for example,<answer>3</answer><answer>8</answer>. You MUST score both assitants and judge one of them as the WINNER WITH A HIGHER SCORE.",
        Prefix = "\n\n{media}[Question]\n\n{question}\n\n",
        Candidate = "[Assistant {i}'s Answer]\n{answer}",
        Answer = "pair_scores",
        Scale = new ScoreScale(1, 10),
        AssistantPrefix = "<think>",
    };

    /// <summary>
    /// Flex-Omni's MOS prompt for speech quality (flex-judge <c>test/bvcc_vllm.py</c>): the audio first, then the
    /// question and the reminder, no candidate (a pointwise request with no candidates scores the audio itself); one
    /// score on the request's scale, 1–5 by default. With default criteria and scale the system prompt and the user
    /// text around the audio are the reference's word for word (its rubric is the default criteria).
    /// </summary>
    public static JudgeTemplate SpeechMos { get; } = new()
    {
        System = Preamble
            + "Now the user asks you to judge the score of the quality of this speech sample. Score the audio on a mean opinion score (MOS) scale from {min} to {max} "
            + "(higher = better) based on overall quality. {criteria} After thinking, when you finally reach a conclusion, clearly provide your evaluation score "
            + "within <answer> </answer> tags, i.e., for example,<answer>3.1</answer>",
        Prefix = "{media}{question}\n\nRemember to end with <answer>X</answer>.",
        Candidate = "\n\n[Assistant's Answer]\n{answer}",
        DefaultCriteria = "Please consider the quality of the speech, the naturalness, and the intelligibility of the speech. "
            + "1 \u2013 Very Bad: The speech is very unnatural, has poor audio quality, and is nearly impossible to understand. "
            + "2 \u2013 Poor: The speech sounds unnatural and/or noisy. Only a few words are understandable. "
            + "3 \u2013 Fair: The speech is somewhat unnatural or contains noticeable noise, but the overall meaning is understandable. "
            + "4 \u2013 Good: The speech is generally natural and clear, with most of the content easy to understand. "
            + "5 \u2013 Excellent: The speech is very natural, high in audio quality, and fully intelligible.",
        Answer = "score",
        Scale = new ScoreScale(1, 5),
    };

    /// <summary>Built-in templates by name (a request's <c>template</c> field, or a file of that name in --template-dir).</summary>
    public static IReadOnlyDictionary<string, JudgeTemplate> Named { get; } = new Dictionary<string, JudgeTemplate>(StringComparer.Ordinal)
    {
        ["pointwise"] = Pointwise,
        ["pointwise_decimal"] = PointwiseDecimal,
        ["pairwise"] = Pairwise,
        ["pairwise_brackets"] = PairwiseBrackets,
        ["ranking"] = Ranking,
        ["binary"] = Binary,
        ["speech_mos"] = SpeechMos,
        ["mol_pampa"] = MolPampa,
        ["mol_pairwise"] = MolPairwise,
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

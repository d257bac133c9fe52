using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Judging;

namespace JudgeHost.Tests.Judging;

/// <summary>
/// Flex-Mol-LLaMA's two judge prompts as named templates (word for word against the reference's prompt files),
/// molecules placed where the question writes &lt;mol&gt;, the PAMPA judge's final-answer cut, and the pairwise
/// judge's &lt;think&gt; prefill.
/// </summary>
public sealed class MoleculeJudgingTests
{
    // flex-judge example/pampa/prompts.py PROMPTS["judge"]["system"], verbatim.
    private const string ReferencePampaSystem =
        "\n\nYou are a helpful assistant. The assistant first performs a detailed, step-by-step reasoning process in its mind and then provides the user with the answer. "
        + "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> detailed reasoning process here, "
        + "explaining each step of your evaluation for an AI assistant </think><answer> answer here </answer>. Now the user asks you to judge the prediction of an AI assistant, "
        + "by analyzing the given molecule. Score this prediction on a scale from 1.0 to 10.0 (1 if prediction is inaccurate, 10 if prediction is accurate, and 5 if uncertain "
        + "given the molecular analysis) in FISRT DECIMAL. Consider the following sub-dimensions when analyzing the molecule:\n"
        + "1) Lipophilicity: Higher lipophilicity generally correlates with increased permeability, up to a certain threshold.\n"
        + "2) Molecular Size and Weight: Smaller molecules tend to have higher permeability.\n"
        + "3) Polarity: Low polar surface area and low hydrogen bond donors/acceptors are associated with higher permeability.\n"
        + "4) Charge: Neutral molecules typically have better permeability compared to charged species, which are less likely to diffuse through the hydrophobic lipid bilayer.\n"
        + "5) Rigidity: A high degree of rigidity often permeate membranes more easily.\n"
        + "6) Aromaticity: The presence of aromatic rings can influence lipophilicity and molecular interactions with the lipid bilayer, thereby affecting permeability.\n"
        + "7) Hydration Energy: Lower hydration energy generally improves membrane permeation.\n"
        + "8) Membrane Affinity: Compounds with a balanced affinity for both the aqueous phase and the lipid bilayer tend to exhibit better PAMPA permeability.\n"
        + "Avoid length, style or other bias. After thinking, when you finally reach a conclusion, clearly provide your evaluation scores within <answer> </answer> tags, "
        + "i.e., for example, <answer>3.8</answer>.";

    // ...PROMPTS["judge"]["user"] before the response, with <mol> as pampa/dataset_judge.py expands it.
    private const string ReferencePampaUser =
        "\n\n[Question]\n\nPredict the permeability of a given molecule to the artificial membrane in the Parallel Artificial Membrane Permeability Assay (PAMPA), "
        + "high or low-to-moderate.\nMolecule <mol>.\n\n[Assistant's Answer]\n";

    public const string PampaQuestion =
        "Predict the permeability of a given molecule to the artificial membrane in the Parallel Artificial Membrane Permeability Assay (PAMPA), high or low-to-moderate.\nMolecule <mol>.";

    // flex-judge example/data_provider/prompts.py PROMPTS["judge"]["system"], verbatim.
    private const string ReferencePairwiseSystem =
        "\n\nYou are a helpful assistant. The assistant first performs a detailed, step-by-step reasoning process in its mind and then provides the user with the answer. "
        + "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> detailed reasoning process here, "
        + "explaining each step of your evaluation for both assistants </think><answer> answer here </answer>. Now the user asks you to judge the performance of two AI "
        + "assistants in response to the question. Score assistants on a scale from 1.0 to 10.0 (higher=better). Criteria includes helpfulness, relevance, accuracy, and level "
        + "of detail. After thinking, when you finally reach a conclusion, clearly provide your evaluation scores within <answer> </answer> tags, i.e., for example,"
        + "<answer>3</answer><answer>8</answer>. You MUST score both assitants and judge one of them as the WINNER WITH A HIGHER SCORE.";

    private static readonly MediaRef Aspirin = new("molecule", Value: "CC(=O)Oc1ccccc1C(=O)O");

    [Fact]
    public void MolPampa_RendersTheReferencePrompt_WithTheMoleculeInTheQuestion()
    {
        var backend = new ScriptedBackend(_ => "<think>x</think><answer>7.5</answer>") { Modalities = new HashSet<string> { "molecule" } };
        var judge = new JudgeService(backend, new JudgeOptions { PrefillThink = true });
        const string Candidate = "  The molecule is small and neutral.\nFinal answer: High permeability  ";

        var result = judge.Judge([new JudgeRequest
        {
            Id = "p", Task = JudgeTask.Pointwise, Instruction = PampaQuestion, Candidates = [Candidate], Media = [Aspirin], Template = "mol_pampa",
        }])[0];

        var prompt = backend.Calls.Single().Prompt;
        Assert.Equal(ReferencePampaSystem, prompt.System);
        // truncate_at_final_answer: cut at the marker and stripped; the molecule's marker where <mol> was.
        Assert.Equal(ReferencePampaUser.Replace("<mol>", MediaSplicer.MarkerFor(0), StringComparison.Ordinal) + "The molecule is small and neutral.", prompt.User);
        Assert.Equal("", prompt.AssistantPrefix);        // think=False in the reference: no prefill, even with --prefill-think
        Assert.Equal("ok", result.Status);
        Assert.Equal(7.5, result.Verdict!.Score);         // 1.0-10.0 scale from the template
    }

    [Fact]
    public void MolPairwise_RendersTheReferencePrompt_PrefillsThink_AndJudgesBothOrders()
    {
        var backend = new ScriptedBackend(p => ScriptedBackend.FirstCandidate(p) == "good"
            ? "reasoning</think><answer>8</answer><answer>3</answer>"
            : "reasoning</think><answer>3</answer><answer>8</answer>") { Modalities = new HashSet<string> { "molecule" } };
        var judge = new JudgeService(backend, new JudgeOptions());
        string question = "Describe the molecule <mol><mol><mol><mol><mol><mol><mol><mol>.";   // Mol-LLaMA data: already expanded

        var result = judge.Judge([new JudgeRequest
        {
            Id = "d", Task = JudgeTask.Pairwise, Instruction = question, Candidates = ["good", "bad"], Media = [Aspirin], Template = "mol_pairwise",
        }])[0];

        Assert.Equal(2, backend.Calls.Count);
        var first = backend.Calls[0].Prompt;
        Assert.Equal(ReferencePairwiseSystem, first.System);
        Assert.Equal($"\n\n[Question]\n\nDescribe the molecule {MediaSplicer.MarkerFor(0)}.\n\n[Assistant 1's Answer]\ngood\n\n[Assistant 2's Answer]\nbad", first.User);
        Assert.Equal("<think>", first.AssistantPrefix);   // JudgeCollater think=True: "<think>", no newline
        Assert.Equal("ok", result.Status);
        Assert.Equal("A", result.Verdict!.Outcome);
        Assert.True(result.OrdersAgree);
    }

    [Fact]
    public void Placement_SeveralMoleculesInline_RestToTheMediaSlot()
    {
        var (text, others) = MediaPlacement.Place("Compare <mol> with <mol><mol><mol><mol><mol><mol><mol><mol>.", ["image", "molecule", "molecule", "molecule"], "Request 'x'", "\n\n");

        Assert.Equal($"Compare {MediaSplicer.MarkerFor(1)} with {MediaSplicer.MarkerFor(2)}.", text);
        Assert.Equal($"{MediaSplicer.MarkerFor(0)}\n\n{MediaSplicer.MarkerFor(3)}\n\n", others);
    }

    [Theory]
    [InlineData("A <mol> and <mol>", 1, "has 2 <mol> placeholder(s) but 1 molecule item(s)")]   // more slots than molecules
    [InlineData("A <mol><mol><mol>", 1, "a run of 3 <mol> tokens")]                               // neither 1 nor 8
    public void Placement_MismatchedPlaceholders_AreTypedErrorsNamingTheRequest(string text, int molecules, string expected)
    {
        var e = Assert.Throws<JudgeHostException>(() => MediaPlacement.Place(text, Enumerable.Repeat("molecule", molecules).ToArray(), "Request 'x'", ""));

        Assert.Contains("Request 'x'", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Placement_NoMolecules_LeavesTextAlone()
    {
        Assert.Equal(("a <mol> b", ""), MediaPlacement.Place("a <mol> b", [], "x", "\n"));
    }

    [Theory]
    [InlineData("why\nFinal answer: High", "why")]                   // the usual case
    [InlineData("  why  \n\nfinal Answer: x\nFinal answer: y", "why")] // first marker; stripped both sides; [Ff] [Aa]
    [InlineData("why\nFINAL ANSWER: High", "why\nFINAL ANSWER: High")] // the reference's regex is not case-insensitive
    [InlineData("  no marker  ", "  no marker  ")]                   // unchanged (not even stripped) without a marker
    public void FinalAnswer_TruncatesAsTheReference(string text, string expected)
    {
        Assert.Equal(expected, FinalAnswer.Truncate(text));
    }
}

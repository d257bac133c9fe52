using System.Globalization;
using JudgeHost.Abstractions;
using JudgeHost.Judging;
using JudgeHost.Pipelines;

namespace JudgeHost.Tests.Judging;

/// <summary>
/// Flex-Omni's speech-quality (MOS) format: the "speech_mos" template against flex-judge test/bvcc_vllm.py's prompt,
/// and the benchmark flow judge -> eval (utterance-level LCC / SRCC = Pearson / Spearman) on judged MOS values.
/// </summary>
public sealed class SpeechMosTests
{
    // flex-judge test/bvcc_vllm.py SYSTEM_PROMPT (a backslash-continued Python string: the lines join with their spaces).
    private const string ReferenceBvccSystem =
        "You are a helpful assistant. The assistant first performs a detailed, "
        + "step-by-step reasoning process in its mind and then provides the user with "
        + "the answer. The reasoning process and answer are enclosed within <think> "
        + "</think> and <answer> </answer> tags, respectively, i.e., <think> detailed "
        + "reasoning process here, explaining each step of your evaluation for both "
        + "assistants </think><answer> answer here </answer>. Now the user asks you "
        + "to judge the score of the quality of this speech sample. "
        + "Score the audio on a mean opinion score (MOS) scale from 1 to 5 (higher = better) based on overall quality. "
        + "Please consider the quality of the speech, the naturalness, and the intelligibility of the speech. "
        + "1 \u2013 Very Bad: The speech is very unnatural, has poor audio quality, and is nearly impossible to understand. "
        + "2 \u2013 Poor: The speech sounds unnatural and/or noisy. Only a few words are understandable. "
        + "3 \u2013 Fair: The speech is somewhat unnatural or contains noticeable noise, but the overall meaning is understandable. "
        + "4 \u2013 Good: The speech is generally natural and clear, with most of the content easy to understand. "
        + "5 \u2013 Excellent: The speech is very natural, high in audio quality, and fully intelligible. "
        + "After thinking, when you finally reach a conclusion, clearly "
        + "provide your evaluation score within <answer> </answer> tags, i.e., for "
        + "example,<answer>3.1</answer>";

    private const string Question = "Rate this audio on a mean opinion score (MOS) scale from 1 to 5. YOU MUST end with <answer>X</answer> where X is your score.";

    [Fact]
    public void SpeechMos_Default_RendersTheBvccPromptWithTheAudioFirst()
    {
        var prompt = DefaultTemplates.SpeechMos.Render(new PromptValues("<|media:0|>\n\n", Question, null, "1", "5"), []);

        Assert.Equal(ReferenceBvccSystem, prompt.System);
        // bvcc_vllm.py: f"<|audio_bos|><|AUDIO|><|audio_eos|>\n\n{question}\n\nRemember to end with <answer>X</answer>."
        Assert.Equal("<|media:0|>\n\n" + Question + "\n\nRemember to end with <answer>X</answer>.", prompt.User);
    }

    [Fact]
    public void JudgeThenEvaluate_MosRequests_GiveUtteranceLevelCorrelationsOverTheParsedOnes()
    {
        // The "model" hears the file name: MOS 4.2 / 3.1 / 2.4 / 1.5, one reply without an answer (unparsed, excluded
        // from the correlations and counted), one missing file (error).
        var said = new Dictionary<string, string>
        {
            ["a.wav"] = "<think>clean</think><answer>4.2</answer>",
            ["b.wav"] = "<think>hiss</think><answer>3.1</answer>",
            ["c.wav"] = "<think>muffled</think><answer>2.4</answer>",
            ["d.wav"] = "<think>clipped</think><answer>1.5</answer>",
            ["e.wav"] = "<think>I cannot tell</think>",
        };
        var backend = new ScriptedBackend(p => said[p.Media[0].Path!]) { Modalities = new HashSet<string> { "audio" } };
        var judge = new JudgeService(backend, new JudgeOptions());
        double[] gold = [4.5, 3.0, 2.6, 1.2, 3.3];
        var requests = gold.Select((mos, i) => new JudgeRequest
        {
            Id = $"u{i}", Task = JudgeTask.Pointwise, Template = "speech_mos", Instruction = Question,
            Media = [new MediaRef("audio", $"{(char)('a' + i)}.wav")],
            Label = System.Text.Json.JsonSerializer.SerializeToElement(mos),
        }).ToArray();

        var results = judge.Judge(requests);
        var evaluation = Assert.Single(Evaluation.Evaluate(results));

        Assert.Equal(["ok", "ok", "ok", "ok", "unparsed"], results.Select(r => r.Status));
        Assert.Equal(4.2, results[0].Verdict!.Score);
        Assert.Equal((5, 1, 0), (evaluation.Items, evaluation.Unparsed, evaluation.Errors));
        double[] predicted = [4.2, 3.1, 2.4, 1.5];
        double[] parsedGold = gold[..4];
        var metrics = evaluation.Metrics.ToDictionary(m => m.Name, m => m.Value);
        Assert.Equal(Metrics.Pearson(predicted, parsedGold), metrics["pearson"], 12);
        Assert.Equal(1.0, metrics["spearman"], 12);                      // same order: 4.5 > 3.0 > 2.6 > 1.2
        Assert.Equal(predicted.Zip(parsedGold, (p, g) => (p - g) * (p - g)).Average(), metrics["mse"], 12);
        Assert.Equal(0.2, metrics["parse_failure_rate"], 12);
        Assert.True(metrics["pearson"] > 0.9, metrics["pearson"].ToString(CultureInfo.InvariantCulture));
        Assert.Contains(backend.Calls, c => c.Prompt.User.StartsWith("<|media:0|>\n\n" + Question, StringComparison.Ordinal));
    }
}

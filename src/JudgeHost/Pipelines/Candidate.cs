using System.Text.Json.Serialization;

namespace JudgeHost.Pipelines;

/// <summary>One candidate answer of a prompt: given in the input (<c>source</c> "input") or sampled from the policy ("policy").</summary>
/// <param name="Index">0-based position among the prompt's candidates.</param>
/// <param name="Text">The full answer (exports carry this text).</param>
/// <param name="Source"><c>input</c> or <c>policy</c>.</param>
/// <param name="Temperature">Sampling temperature (policy candidates).</param>
/// <param name="Tokens">Tokens generated (policy candidates).</param>
/// <param name="FinishReason"><c>eos</c> or <c>length</c> (policy candidates).</param>
public sealed record Candidate(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("temperature")] float? Temperature = null,
    [property: JsonPropertyName("tokens")] int? Tokens = null,
    [property: JsonPropertyName("finish_reason")] string? FinishReason = null)
{
    public static IReadOnlyList<Candidate> FromInput(IReadOnlyList<string> texts) => texts.Select((t, i) => new Candidate(i, t, "input")).ToArray();
}

/// <summary>
/// What the judge sees of a candidate. The PAMPA recipe of the reference judges only the reasoning: everything from
/// the final-answer marker on is cut (<c>truncate_at_final_answer</c>), so the judge scores how the answer was
/// reached, not the label it names. Off by default. The default marker is the reference's exactly
/// (<see cref="Judging.FinalAnswer.Truncate"/>: <c>[Ff]inal [Aa]nswer:</c>, the rest stripped); another marker is
/// matched case-insensitively.
/// </summary>
public sealed record CandidateView(bool StripFinalAnswer = false, string FinalAnswerMarker = CandidateView.DefaultMarker)
{
    public const string DefaultMarker = "Final answer:";

    /// <summary>The text to judge: the candidate cut before the first marker when stripping, else unchanged.</summary>
    public string JudgedText(string text)
    {
        if (!StripFinalAnswer || string.IsNullOrEmpty(FinalAnswerMarker))
        {
            return text;
        }

        if (FinalAnswerMarker == DefaultMarker)
        {
            return Judging.FinalAnswer.Truncate(text);
        }

        int at = text.IndexOf(FinalAnswerMarker, StringComparison.OrdinalIgnoreCase);
        return at < 0 ? text : text[..at].Trim();
    }
}

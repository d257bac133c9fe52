using JudgeHost.Judging;

namespace JudgeHost.Tests.Judging;

/// <summary>
/// A judge backend double: a script maps each prompt (and the assistant text so far) to the text the "model"
/// would write. Stop strings and token limits are honoured as a real backend does (one token per character).
/// </summary>
public sealed class ScriptedBackend(Func<JudgePrompt, string> script) : IJudgeBackend
{
    public List<(JudgePrompt Prompt, GenerationSettings Settings)> Calls { get; } = [];

    public IReadOnlySet<string> Modalities { get; init; } = new HashSet<string> { "image" };

    public IReadOnlyList<GenerationOutput> Generate(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, CancellationToken cancellationToken = default) =>
        prompts.Select(p =>
        {
            Calls.Add((p, settings));
            string full = script(p);
            string text = full;
            string stoppedBy = "eos";
            foreach (string stop in settings.StopStrings)
            {
                int at = text.IndexOf(stop, StringComparison.Ordinal);
                if (at >= 0)
                {
                    text = text[..(at + stop.Length)];
                    stoppedBy = stop;
                }
            }

            if (text.Length > settings.MaxNewTokens)
            {
                text = text[..settings.MaxNewTokens];
                stoppedBy = "length";
            }

            return new GenerationOutput(text, text.Length, stoppedBy);
        }).ToArray();

    /// <summary>The candidate shown first in a pairwise prompt.</summary>
    public static string FirstCandidate(JudgePrompt p)
    {
        const string marker = "[Assistant 1's Answer]\n";
        int start = p.User.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        int end = p.User.IndexOf("\n\n", start, StringComparison.Ordinal);
        return p.User[start..(end < 0 ? p.User.Length : end)];
    }
}

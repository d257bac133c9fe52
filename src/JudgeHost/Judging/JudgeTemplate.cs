using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using JudgeHost.Abstractions;

namespace JudgeHost.Judging;

/// <summary>
/// A prompt template: a system prompt and a user text made of a shared prefix (media, question) followed by the
/// candidate blocks, so one prefix serves many candidates. Placeholders: <c>{media}</c>, <c>{question}</c>,
/// <c>{criteria}</c>, <c>{min}</c>, <c>{max}</c>, <c>{aspect}</c>, <c>{reference}</c> and, in <see cref="Candidate"/>,
/// <c>{i}</c> (1-based), <c>{letter}</c> and <c>{answer}</c>. Load your own from a JSON file with the same keys.
/// </summary>
public sealed record JudgeTemplate
{
    [JsonPropertyName("system")]
    public required string System { get; init; }

    /// <summary>User text before the candidates (shared by every candidate and order).</summary>
    [JsonPropertyName("prefix")]
    public required string Prefix { get; init; }

    /// <summary>One block per candidate.</summary>
    [JsonPropertyName("candidate")]
    public required string Candidate { get; init; }

    /// <summary>Joins candidate blocks.</summary>
    [JsonPropertyName("separator")]
    public string Separator { get; init; } = "\n\n";

    /// <summary>User text after the candidates.</summary>
    [JsonPropertyName("suffix")]
    public string Suffix { get; init; } = "";

    /// <summary>Criteria used when a request gives none.</summary>
    [JsonPropertyName("default_criteria")]
    public string DefaultCriteria { get; init; } = "";

    /// <summary>How answers are written.</summary>
    [JsonPropertyName("answer")]
    public string Answer { get; init; } = "scores";

    /// <summary>The scale used when a request gives none (e.g. 1.0–10.0 for the molecule judges); null: the task's default.</summary>
    [JsonPropertyName("scale")]
    public ScoreScale? Scale { get; init; }

    /// <summary>
    /// Text the judge's answer starts with (e.g. <c>&lt;think&gt;</c>, or "" for none); when set it overrides
    /// <c>--prefill-think</c>, because the judge was run with exactly this prefill.
    /// </summary>
    [JsonPropertyName("assistant_prefix")]
    public string? AssistantPrefix { get; init; }

    /// <summary>Cut each candidate before its final answer (<see cref="FinalAnswer.Truncate"/>), so only the reasoning is judged.</summary>
    [JsonPropertyName("truncate_at_final_answer")]
    public bool TruncateAtFinalAnswer { get; init; }

    /// <summary>Reads a user template file (JSON with the property names above).</summary>
    public static JudgeTemplate Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new JudgeHostException($"Template file '{path}' does not exist.");
        }

        try
        {
            return JsonSerializer.Deserialize<JudgeTemplate>(File.ReadAllText(path))
                ?? throw new JudgeHostException($"Template file '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new JudgeHostException($"Template file '{path}' is not a valid template: {e.Message} It needs \"system\", \"prefix\" and \"candidate\" strings.", e);
        }
    }

    /// <summary>Renders the system prompt and the user text's shared prefix and candidate part.</summary>
    public RenderedPrompt Render(PromptValues values, IReadOnlyList<string> candidates)
    {
        string Fill(string template, int index = -1, string? answer = null)
        {
            var s = new StringBuilder(template)
                .Replace("{media}", values.Media)
                .Replace("{question}", values.Question)
                .Replace("{criteria}", string.IsNullOrWhiteSpace(values.Criteria) ? DefaultCriteria : values.Criteria)
                .Replace("{min}", values.Min)
                .Replace("{max}", values.Max)
                .Replace("{aspect}", values.Aspect ?? "")
                .Replace("{reference}", values.Reference ?? "");
            if (index >= 0)
            {
                s.Replace("{i}", (index + 1).ToString(CultureInfo.InvariantCulture))
                 .Replace("{letter}", ((char)('A' + index)).ToString())
                 .Replace("{answer}", answer);
            }

            return s.ToString();
        }

        string blocks = string.Join(Separator, candidates.Select((c, i) => Fill(Candidate, i, c)));
        return new RenderedPrompt(Fill(System), Fill(Prefix), blocks + Fill(Suffix));
    }
}

/// <summary>Values substituted into a template.</summary>
public sealed record PromptValues(string Media, string Question, string? Criteria, string Min, string Max, string? Aspect = null, string? Reference = null);

/// <summary>A rendered prompt: system text, and user text split into the shared prefix and the candidate part.</summary>
public sealed record RenderedPrompt(string System, string UserPrefix, string UserCandidates)
{
    public string User => UserPrefix + UserCandidates;
}

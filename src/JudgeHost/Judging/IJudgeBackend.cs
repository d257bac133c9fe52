namespace JudgeHost.Judging;

/// <summary>One generation request: a chat (system + user text, media already placed) and the assistant text so far.</summary>
/// <param name="System">System prompt.</param>
/// <param name="User">User text (with media placeholders where the backend splices embeddings).</param>
/// <param name="AssistantPrefix">Text the assistant turn already holds (a prefilled <c>&lt;think&gt;</c>, reasoning so far).</param>
/// <param name="Media">Media items of the user turn, in placeholder order.</param>
/// <param name="SharedPrefixLength">Characters of <paramref name="User"/> shared with sibling requests (media + instruction).</param>
public sealed record JudgePrompt(string System, string User, string AssistantPrefix, IReadOnlyList<JudgeHost.Abstractions.MediaItem> Media, int SharedPrefixLength);

/// <summary>How to generate.</summary>
/// <param name="MaxNewTokens">Token limit of this call.</param>
/// <param name="Temperature">0 = greedy.</param>
/// <param name="TopP">Nucleus mass.</param>
/// <param name="Seed">Sampling seed (each sample of a vote gets seed + sample index).</param>
/// <param name="StopStrings">Generation stops right after any of these appears (the string is kept).</param>
public sealed record GenerationSettings(int MaxNewTokens, float Temperature, float TopP, long Seed, IReadOnlyList<string> StopStrings);

/// <summary>What one generation produced.</summary>
/// <param name="Text">Generated text (without the prompt and prefix).</param>
/// <param name="Tokens">Tokens generated.</param>
/// <param name="StoppedBy">The stop string hit, "eos", or "length".</param>
/// <param name="PromptTokens">Tokens of the prompt this generation continued (0 when the backend does not count).</param>
/// <param name="Error">Why this prompt could not be run (e.g. a plugin rejected its media); null when it ran.</param>
public sealed record GenerationOutput(string Text, int Tokens, string StoppedBy, int PromptTokens = 0, string? Error = null)
{
    public bool Truncated => StoppedBy == "length";
}

/// <summary>
/// The model behind a judge: generates assistant text for chats. The real one runs the backbone with batching and
/// shared-prefix reuse; tests use a scripted double.
/// </summary>
public interface IJudgeBackend
{
    /// <summary>Modalities this backend can place into prompts (empty for a text-only model).</summary>
    IReadOnlySet<string> Modalities { get; }

    /// <summary>Generates every prompt (batched as the backend sees fit); results in prompt order.</summary>
    IReadOnlyList<GenerationOutput> Generate(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, CancellationToken cancellationToken = default);
}

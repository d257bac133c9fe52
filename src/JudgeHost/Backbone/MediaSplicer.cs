using System.Text.RegularExpressions;
using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>How a model family frames one media item in its prompt text (e.g. Qwen2.5-VL: vision start/end tokens).</summary>
/// <param name="Before">Text placed before the embeddings (e.g. <c>&lt;|vision_start|&gt;</c>).</param>
/// <param name="After">Text placed after them (e.g. <c>&lt;|vision_end|&gt;</c>).</param>
/// <param name="Placeholder">
/// The token the family's reference writes once per embedding row and then overwrites (Mol-LLaMA's <c>&lt;mol&gt;</c>);
/// null when there is none. Where the embeddings go the spliced sequence is identical to the reference's; the same
/// token anywhere else in the text (a candidate that writes "&lt;mol&gt;") would be overwritten by the reference out of
/// order, so it is refused.
/// </param>
public sealed record MediaFraming(string Before, string After, string? Placeholder = null)
{
    /// <summary>No framing text (plain 1-D media runs).</summary>
    public static MediaFraming None { get; } = new("", "");

    /// <summary>Qwen2-VL / Qwen2.5-VL images and videos.</summary>
    public static MediaFraming Qwen2VL { get; } = new("<|vision_start|>", "<|vision_end|>");

    /// <summary>Qwen2.5-Omni audio: the processor's <c>&lt;|audio_bos|&gt;</c> + N x <c>&lt;|AUDIO|&gt;</c> + <c>&lt;|audio_eos|&gt;</c>.</summary>
    public static MediaFraming Qwen25OmniAudio { get; } = new("<|audio_bos|>", "<|audio_eos|>");

    /// <summary>Qwen2.5-Omni images and videos (the Omni tokenizer's names for ids 151652 / 151653).</summary>
    public static MediaFraming Qwen25OmniVision { get; } = new("<|vision_bos|>", "<|vision_eos|>");

    /// <summary>Mol-LLaMA: a molecule is its run of query embeddings in place of as many <c>&lt;mol&gt;</c> tokens, nothing around it.</summary>
    public static MediaFraming MolLlama { get; } = new("", "", MolLlamaConfig.MolToken);
}

/// <summary>
/// Turns prompt text containing media markers (<c>&lt;|media:i|&gt;</c>) plus the encoded media into a
/// <see cref="SequenceInput"/>: text runs tokenized as the Hugging Face processor would (markers replaced by the
/// family's framing, each placeholder run replaced by the item's embeddings), and position ids — M-RoPE rows for
/// grid layouts when the model uses M-RoPE, 1-D otherwise. Encoded media stay owned by the caller.
/// </summary>
public static partial class MediaSplicer
{
    /// <summary>Every item framed the same way.</summary>
    public static SequenceInput Build(string text, IReadOnlyList<EncodedMedia> media, HfTokenizer tokenizer, MediaFraming framing, bool mrope, double tokensPerSecond) =>
        Build(text, media, [.. media.Select(_ => framing)], tokenizer, mrope, tokensPerSecond, framing.Placeholder);

    /// <summary>
    /// Item <c>i</c> framed by <paramref name="framings"/>[i] (its modality's framing). A framing text must be one special
    /// token of the checkpoint's tokenizer: a tokenizer without it would silently spell it out in characters.
    /// <paramref name="placeholder"/>: the family's placeholder token, refused in the text even when no item is given.
    /// </summary>
    public static SequenceInput Build(string text, IReadOnlyList<EncodedMedia> media, IReadOnlyList<MediaFraming> framings, HfTokenizer tokenizer, bool mrope, double tokensPerSecond, string? placeholder = null)
    {
        ArgumentNullException.ThrowIfNull(media);
        ArgumentNullException.ThrowIfNull(framings);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (framings.Count != media.Count)
        {
            throw new ArgumentException($"{framings.Count} framings for {media.Count} media items.", nameof(framings));
        }

        foreach (string piece in framings.SelectMany(f => new[] { f.Before, f.After }).Where(p => p.Length > 0).Distinct())
        {
            if (!tokenizer.AddedTokens.ContainsKey(piece))
            {
                throw new CorruptCheckpointException($"The tokenizer has no special token '{piece}', which this model family frames media with. The checkpoint's tokenizer does not match its config.json; re-download the checkpoint.");
            }
        }

        var segments = new List<SequenceSegment>();
        var layout = new List<PositionSegment>();
        var used = new HashSet<int>();
        int last = 0;
        string pending = "";
        var placeholders = framings.Select(f => f.Placeholder).Append(placeholder).OfType<string>().Distinct().ToDictionary(
            p => tokenizer.TokenToId(p) ?? throw new JudgeHostException($"The tokenizer has no '{p}' token, which this model family writes where media go. Use the checkpoint's own tokenizer files."),
            p => p);
        void AddText(string piece)
        {
            if (piece.Length == 0)
            {
                return;
            }

            var ids = tokenizer.Encode(piece);
            if (ids.FirstOrDefault(placeholders.ContainsKey, -1) is var pid and >= 0)
            {
                throw new JudgeHostException(
                    $"The prompt text contains '{placeholders[pid]}' outside the media placeholders (e.g. in a candidate or the criteria); the model would read it as a media slot. Remove or rephrase it.");
            }

            if (ids.Count > 0)
            {
                segments.Add(new SequenceSegment.Tokens(ids));
                layout.Add(new PositionSegment.Text(ids.Count));
            }
        }

        foreach (Match match in Marker().Matches(text))
        {
            int index = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (index >= media.Count || !used.Add(index))
            {
                throw new JudgeHostException($"The prompt refers to media item {index}, which is missing or used twice ({media.Count} items given).");
            }

            AddText(pending + text[last..match.Index] + framings[index].Before);
            segments.Add(new SequenceSegment.Embeddings(media[index].Embeddings));
            layout.Add(new PositionSegment.Media(media[index].Layout));
            pending = framings[index].After;
            last = match.Index + match.Length;
        }

        AddText(pending + text[last..]);
        if (used.Count != media.Count)
        {
            throw new JudgeHostException($"{media.Count - used.Count} media item(s) have no marker in the prompt; every item needs one.");
        }

        if (!mrope)
        {
            return new SequenceInput(segments);
        }

        var (positions, _) = MropePositions.Build(layout, tokensPerSecond);
        int total = layout.Sum(l => l.Length);
        return new SequenceInput(segments, tensor(positions).view(3, total));
    }

    /// <summary>The marker for media item <paramref name="index"/> (what the judge's prompt builder writes).</summary>
    public static string MarkerFor(int index) => $"<|media:{index}|>";

    [GeneratedRegex(@"<\|media:(\d+)\|>")]
    private static partial Regex Marker();
}

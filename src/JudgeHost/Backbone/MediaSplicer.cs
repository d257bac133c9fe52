using System.Text.RegularExpressions;
using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>How a model family frames one media item in its prompt text (e.g. Qwen2.5-VL: vision start/end tokens).</summary>
/// <param name="Before">Text placed before the embeddings (e.g. <c>&lt;|vision_start|&gt;</c>).</param>
/// <param name="After">Text placed after them (e.g. <c>&lt;|vision_end|&gt;</c>).</param>
public sealed record MediaFraming(string Before, string After)
{
    public static MediaFraming Qwen2VL { get; } = new("<|vision_start|>", "<|vision_end|>");
}

/// <summary>
/// Turns prompt text containing media markers (<c>&lt;|media:i|&gt;</c>) plus the encoded media into a
/// <see cref="SequenceInput"/>: text runs tokenized as the Hugging Face processor would (markers replaced by the
/// family's framing, each placeholder run replaced by the item's embeddings), and position ids — M-RoPE rows for
/// grid layouts when the model uses M-RoPE, 1-D otherwise. Encoded media stay owned by the caller.
/// </summary>
public static partial class MediaSplicer
{
    public static SequenceInput Build(string text, IReadOnlyList<EncodedMedia> media, HfTokenizer tokenizer, MediaFraming framing, bool mrope, double tokensPerSecond)
    {
        var segments = new List<SequenceSegment>();
        var layout = new List<PositionSegment>();
        var used = new HashSet<int>();
        int last = 0;
        string pending = "";
        void AddText(string piece)
        {
            if (piece.Length == 0)
            {
                return;
            }

            var ids = tokenizer.Encode(piece);
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

            AddText(pending + text[last..match.Index] + framing.Before);
            segments.Add(new SequenceSegment.Embeddings(media[index].Embeddings));
            layout.Add(new PositionSegment.Media(media[index].Layout));
            pending = framing.After;
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

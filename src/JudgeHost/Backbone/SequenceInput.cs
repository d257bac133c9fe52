using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>One span of an input sequence: token ids, or external embeddings from a modality plugin.</summary>
public abstract record SequenceSegment
{
    private SequenceSegment()
    {
    }

    public abstract int Length { get; }

    /// <summary>Token ids, embedded with the model's embedding table.</summary>
    public sealed record Tokens(IReadOnlyList<int> Ids) : SequenceSegment
    {
        public override int Length => Ids.Count;
    }

    /// <summary>External embeddings <c>[n, hidden]</c> placed as they are (the caller owns the tensor).</summary>
    public sealed record Embeddings(Tensor Values) : SequenceSegment
    {
        public override int Length => (int)Values.shape[0];
    }
}

/// <summary>
/// A sequence that mixes token ids with spans of external embeddings, with optional explicit position ids:
/// <c>[S]</c> (1-D RoPE) or <c>[3, S]</c> (M-RoPE temporal/height/width rows). Without them positions are
/// 0..S-1. Generation continues from the largest position + 1, as transformers does after vision tokens.
/// </summary>
public sealed class SequenceInput
{
    public SequenceInput(IReadOnlyList<SequenceSegment> segments, Tensor? positionIds = null)
    {
        ArgumentNullException.ThrowIfNull(segments);
        Segments = segments;
        Length = segments.Sum(s => s.Length);
        if (Length == 0)
        {
            throw new JudgeHostException("An input sequence is empty; give at least one token or embedding.");
        }

        if (positionIds is not null)
        {
            bool ok = positionIds.dtype == ScalarType.Int64
                && ((positionIds.dim() == 1 && positionIds.shape[0] == Length) || (positionIds.dim() == 2 && positionIds.shape[0] == 3 && positionIds.shape[1] == Length));
            if (!ok)
            {
                throw new ArgumentException($"Position ids must be int64 [{Length}] or [3, {Length}]; got {positionIds.dtype} [{string.Join(", ", positionIds.shape)}].", nameof(positionIds));
            }
        }

        PositionIds = positionIds;
    }

    public IReadOnlyList<SequenceSegment> Segments { get; }

    public Tensor? PositionIds { get; }

    public int Length { get; }

    /// <summary>1 for 1-D positions, 3 for M-RoPE rows.</summary>
    public int PositionRows => PositionIds is { } p && p.dim() == 2 ? 3 : 1;

    /// <summary>Position of the first generated token.</summary>
    public long NextPosition => PositionIds is null ? Length : PositionIds.max().item<long>() + 1;

    public static SequenceInput FromTokens(IReadOnlyList<int> ids) => new([new SequenceSegment.Tokens(ids)]);

    /// <summary>Positions as <c>[rows, S]</c> int64 (rows = 1 or 3).</summary>
    internal Tensor Positions(int rows)
    {
        var p = PositionIds ?? arange(Length, dtype: ScalarType.Int64);
        p = p.dim() == 1 ? p.unsqueeze(0) : p;                                                    // [1 or 3, S]
        return p.shape[0] == rows ? p : p.expand(rows, Length);
    }
}

using JudgeHost.Abstractions;

namespace JudgeHost.Backbone;

/// <summary>A run of the input sequence for position building: text tokens, or one media item's embeddings.</summary>
public abstract record PositionSegment
{
    private PositionSegment()
    {
    }

    public abstract int Length { get; }

    public sealed record Text(int Count) : PositionSegment
    {
        public override int Length => Count;
    }

    public sealed record Media(PositionLayout Layout) : PositionSegment
    {
        public override int Length => Layout.TokenCount;
    }
}

/// <summary>
/// Qwen2-VL / Qwen2.5-VL multimodal RoPE positions (transformers <c>get_rope_index</c>), for any mix of text and
/// media described by contract position layouts, so the host needs no knowledge of the modality:
/// each segment starts at (largest position so far) + 1; text advances all three rows together; a
/// <see cref="PositionLayout.Grid"/> places token (ti, hi, wi) at (⌊ti·seconds·tokens_per_second⌋, hi, wi) + start;
/// a <see cref="PositionLayout.Sequence"/> advances like text. Without media the rows equal 0..S-1.
/// </summary>
public static class MropePositions
{
    /// <summary>Position ids <c>[3, S]</c> (row-major) and the rope delta (max position + 1 − S) used while decoding.</summary>
    public static (long[] Positions, long RopeDelta) Build(IReadOnlyList<PositionSegment> segments, double tokensPerSecond)
    {
        int total = segments.Sum(s => s.Length);
        var positions = new long[3 * total];
        long next = 0;
        int at = 0;
        foreach (var segment in segments)
        {
            long max = next - 1;
            switch (segment)
            {
                case PositionSegment.Media { Layout: PositionLayout.Grid g }:
                    for (int t = 0; t < g.Temporal; t++)
                    {
                        // transformers: (arange(t) * second_per_grid_t * tokens_per_second).long() — truncation toward zero.
                        long tPos = (long)(t * g.SecondsPerTemporalStep * tokensPerSecond);
                        for (int h = 0; h < g.Height; h++)
                        {
                            for (int w = 0; w < g.Width; w++)
                            {
                                Set(positions, total, at++, next + tPos, next + h, next + w);
                                max = Math.Max(max, next + Math.Max(tPos, Math.Max(h, w)));
                            }
                        }
                    }

                    break;
                default:
                    for (int i = 0; i < segment.Length; i++)
                    {
                        Set(positions, total, at++, next + i, next + i, next + i);
                    }

                    max = next + segment.Length - 1;
                    break;
            }

            next = max + 1;
        }

        return (positions, next - total);
    }

    private static void Set(long[] positions, int total, int index, long t, long h, long w)
    {
        positions[index] = t;
        positions[total + index] = h;
        positions[(2 * total) + index] = w;
    }
}

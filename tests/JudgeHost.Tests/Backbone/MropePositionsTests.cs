using JudgeHost.Abstractions;
using JudgeHost.Backbone;

namespace JudgeHost.Tests.Backbone;

public sealed class MropePositionsTests
{
    private static long[] Row(long[] positions, int row, int total) => positions[(row * total)..((row + 1) * total)];

    [Fact]
    public void TextOnly_IsArangeOnEveryRow()
    {
        var (p, delta) = MropePositions.Build([new PositionSegment.Text(5)], 2);

        for (int r = 0; r < 3; r++)
        {
            Assert.Equal([0L, 1, 2, 3, 4], Row(p, r, 5));
        }

        Assert.Equal(0, delta);
    }

    [Fact]
    public void Image_UsesGridRowsAndColumns_AndTextResumesAfterTheLargest()
    {
        // "<vision_start>" (1 text token), a 2x3 merged grid, then "<vision_end>" and one more token.
        var (p, delta) = MropePositions.Build(
            [new PositionSegment.Text(1), new PositionSegment.Media(new PositionLayout.Grid(1, 2, 3, 0)), new PositionSegment.Text(2)], 2);

        Assert.Equal([0L, 1, 1, 1, 1, 1, 1, 4, 5], Row(p, 0, 9));   // t: constant for an image
        Assert.Equal([0L, 1, 1, 1, 2, 2, 2, 4, 5], Row(p, 1, 9));   // h
        Assert.Equal([0L, 1, 2, 3, 1, 2, 3, 4, 5], Row(p, 2, 9));   // w; vision_end = max(vision) + 1 = 4
        Assert.Equal(6 - 9, delta);                                  // max 5 + 1 - 9 tokens
    }

    [Fact]
    public void Video_TemporalRowFollowsSecondsTimesTokensPerSecond()
    {
        // 3 temporal steps of 1.0 s at 2 tokens per second: t = 0, 2, 4.
        var (p, _) = MropePositions.Build([new PositionSegment.Media(new PositionLayout.Grid(3, 1, 2, 1.0))], 2);

        Assert.Equal([0L, 0, 2, 2, 4, 4], Row(p, 0, 6));
        Assert.Equal([0L, 0, 0, 0, 0, 0], Row(p, 1, 6));
        Assert.Equal([0L, 1, 0, 1, 0, 1], Row(p, 2, 6));
    }

    [Fact]
    public void Video_OmniTemporalRowUses25PositionsPerSecond()
    {
        // Qwen2.5-Omni: t = (arange(grid_t) * second_per_grid * position_id_per_seconds).long() = 0, 25, 50 for 1.0 s.
        var (p, delta) = MropePositions.Build([new PositionSegment.Text(1), new PositionSegment.Media(new PositionLayout.Grid(3, 1, 2, 1.0)), new PositionSegment.Text(1)], 25);

        Assert.Equal([0L, 1, 1, 26, 26, 51, 51, 52], Row(p, 0, 8));
        Assert.Equal(53 - 8, delta);
    }

    [Fact]
    public void SequenceLayout_AdvancesLikeText()
    {
        var (p, delta) = MropePositions.Build([new PositionSegment.Text(2), new PositionSegment.Media(new PositionLayout.Sequence(3)), new PositionSegment.Text(1)], 2);

        Assert.Equal([0L, 1, 2, 3, 4, 5], Row(p, 1, 6));
        Assert.Equal(0, delta);
    }
}

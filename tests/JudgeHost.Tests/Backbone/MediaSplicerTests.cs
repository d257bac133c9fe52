using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

[Collection(TorchCollection.Name)]
public sealed class MediaSplicerTests
{
    private static readonly HfTokenizer Qwen = HfTokenizer.Load(Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"));

    [Fact]
    public void Build_ImageMarker_FramesEmbeddingsAndBuildsMropePositions()
    {
        using var image = new EncodedMedia(zeros(6, 8), new PositionLayout.Grid(1, 2, 3, 0));
        string text = "<|im_start|>user\n" + MediaSplicer.MarkerFor(0) + "\n\nDescribe.<|im_end|>";

        var input = MediaSplicer.Build(text, [image], Qwen, MediaFraming.Qwen2VL, mrope: true, tokensPerSecond: 2);

        var before = Assert.IsType<SequenceSegment.Tokens>(input.Segments[0]);
        Assert.Equal(Qwen.TokenToId("<|vision_start|>"), before.Ids[^1]);
        Assert.Equal(6, Assert.IsType<SequenceSegment.Embeddings>(input.Segments[1]).Length);
        var after = Assert.IsType<SequenceSegment.Tokens>(input.Segments[2]);
        Assert.Equal(Qwen.TokenToId("<|vision_end|>"), after.Ids[0]);
        // Same ids as tokenizing the whole expanded text (placeholders are special tokens, so runs split there).
        var whole = Qwen.Encode("<|im_start|>user\n<|vision_start|>" + string.Concat(Enumerable.Repeat("<|image_pad|>", 6)) + "<|vision_end|>\n\nDescribe.<|im_end|>");
        Assert.Equal(whole.Take(before.Ids.Count), before.Ids);
        Assert.Equal(whole.Skip(before.Ids.Count + 6), after.Ids);

        int start = before.Ids.Count;   // first vision token
        long[] t = input.PositionIds![0].data<long>().ToArray();
        long[] h = input.PositionIds[1].data<long>().ToArray();
        long[] w = input.PositionIds[2].data<long>().ToArray();
        Assert.Equal(Enumerable.Repeat((long)start, 6), t[start..(start + 6)]);
        Assert.Equal([start, start, start, start + 1L, start + 1, start + 1], h[start..(start + 6)]);
        Assert.Equal([start, start + 1L, start + 2, start, start + 1, start + 2], w[start..(start + 6)]);
        Assert.Equal(start + 3, t[start + 6]);   // <|vision_end|> = max(vision) + 1
    }

    [Fact]
    public void Build_WithoutMrope_GivesDefaultPositions()
    {
        using var audio = new EncodedMedia(zeros(4, 8), new PositionLayout.Sequence(4));

        var input = MediaSplicer.Build("a " + MediaSplicer.MarkerFor(0) + " b", [audio], Qwen, new MediaFraming("", ""), mrope: false, tokensPerSecond: 0);

        Assert.Null(input.PositionIds);
        Assert.Equal(3, input.Segments.Count);
    }

    [Theory]
    [InlineData("<|media:1|>")]                 // refers to an item that does not exist
    [InlineData("<|media:0|><|media:0|>")]      // uses an item twice
    [InlineData("no marker")]                   // leaves an item unused
    public void Build_MarkersThatDoNotMatchTheMedia_AreTypedErrors(string text)
    {
        using var image = new EncodedMedia(zeros(1, 8), new PositionLayout.Grid(1, 1, 1, 0));
        Assert.Throws<JudgeHostException>(() => MediaSplicer.Build(text, [image], Qwen, MediaFraming.Qwen2VL, true, 2));
    }
}

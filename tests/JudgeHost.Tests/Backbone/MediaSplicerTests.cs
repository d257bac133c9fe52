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

    [Fact]
    public void Build_OmniImageAndAudio_FramesEachItemForItsModalityAndMatchesTheThinkersPositions()
    {
        // The reference prompt "audio_image" of tools/audio/make_omni_thinker_fixtures.py: image (grid 1x8x12 -> 4x6
        // merged tokens) then 25 audio tokens, positions from the thinker's get_rope_index walk.
        string dir = Path.Combine(RepoPaths.Fixtures, "parity", "qwen25omni-tiny");
        var omni = HfTokenizer.Load(dir);
        using var reference = SafeTensorsFile.Open(Path.Combine(dir, "reference.safetensors"));
        using var expectedIds = reference.Load("audio_image.input_ids");
        using var expectedPositions = reference.Load("audio_image.position_ids");
        using var image = new EncodedMedia(zeros(24, 8), new PositionLayout.Grid(1, 4, 6, 0));
        using var audio = new EncodedMedia(zeros(25, 8), new PositionLayout.Sequence(25));
        string text = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" + MediaSplicer.MarkerFor(0) + MediaSplicer.MarkerFor(1)
            + "Does the speech match the picture?<|im_end|>\n<|im_start|>assistant\n";

        var input = MediaSplicer.Build(text, [image, audio], [MediaFraming.Qwen25OmniVision, MediaFraming.Qwen25OmniAudio], omni, mrope: true, tokensPerSecond: 25);

        long[] ids = expectedIds.data<long>().ToArray();
        int at = 0;
        foreach (var segment in input.Segments)
        {
            if (segment is SequenceSegment.Tokens tokens)
            {
                Assert.Equal(ids[at..(at + tokens.Length)], tokens.Ids.Select(i => (long)i));
            }
            else
            {
                long placeholder = ids[at];
                Assert.All(ids[at..(at + segment.Length)], id => Assert.Equal(placeholder, id));   // the <|IMAGE|> / <|AUDIO|> run
            }

            at += segment.Length;
        }

        Assert.Equal(ids.Length, at);
        Assert.Equal(expectedPositions.data<long>().ToArray(), input.PositionIds!.data<long>().ToArray());
    }

    [Fact]
    public void Build_FramingTokenTheTokenizerLacks_IsACorruptCheckpointError()
    {
        // The Qwen3 tokenizer has no <|audio_bos|>: spelling it out in characters would silently change the prompt.
        using var audio = new EncodedMedia(zeros(2, 8), new PositionLayout.Sequence(2));

        var error = Assert.Throws<CorruptCheckpointException>(() => MediaSplicer.Build("a " + MediaSplicer.MarkerFor(0), [audio], [MediaFraming.Qwen25OmniAudio], Qwen, mrope: true, tokensPerSecond: 25));

        Assert.Contains("<|audio_bos|>", error.Message, StringComparison.Ordinal);
    }
}

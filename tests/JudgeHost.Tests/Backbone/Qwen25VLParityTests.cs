using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>
/// The Qwen2.5-VL language side against the committed reference (tools/parity/make_vl_fixtures.py): M-RoPE positions
/// for text + two images + a video, and logits with the reference vision features placed at the pad tokens.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class Qwen25VLParityTests
{
    private static readonly string Dir = Path.Combine(RepoPaths.Fixtures, "parity", "qwen25vl-tiny");

    private static (long[] Ids, List<PositionSegment> Segments) Prompt(SafeTensorsFile reference)
    {
        using var ids = reference.Load("input_ids");
        long[] idv = ids.data<long>().ToArray();
        var layouts = new Queue<PositionLayout>([new PositionLayout.Grid(1, 4, 6, 0), new PositionLayout.Grid(1, 3, 2, 0), new PositionLayout.Grid(2, 2, 2, 1.0)]);
        var segments = new List<PositionSegment>();
        int run = 0;
        for (int i = 0; i < idv.Length;)
        {
            if (idv[i] is 303 or 304)   // image_token_id, video_token_id of the fixture config
            {
                if (run > 0)
                {
                    segments.Add(new PositionSegment.Text(run));
                    run = 0;
                }

                var layout = layouts.Dequeue();
                segments.Add(new PositionSegment.Media(layout));
                i += layout.TokenCount;
            }
            else
            {
                run++;
                i++;
            }
        }

        segments.Add(new PositionSegment.Text(run));
        return (idv, segments);
    }

    [Fact]
    public void MropePositions_EqualGetRopeIndex()
    {
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        var (_, segments) = Prompt(reference);
        using var expected = reference.Load("position_ids");
        using var delta = reference.Load("rope_delta");

        var (positions, ropeDelta) = MropePositions.Build(segments, tokensPerSecond: 2);

        Assert.Equal(expected.data<long>().ToArray(), positions);
        Assert.Equal(delta.item<long>(), ropeDelta);
    }

    [Fact]
    public void Logits_WithReferenceVisionFeatures_MatchWithin1e4()
    {
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        var (ids, segments) = Prompt(reference);
        using var images = reference.Load("vision_output");
        using var video = reference.Load("video_vision_output");
        using var expected = reference.Load("logits");
        using var model = CheckpointLoader.Load(Dir, ScalarType.Float32, CPU).Model;   // visual.* belongs to the plugin
        var (positions, _) = MropePositions.Build(segments, 2);

        // Token runs between the pad runs, and the vision rows in order, as the image/video plugins will supply them.
        var parts = new List<SequenceSegment>();
        int at = 0, imageRow = 0;
        foreach (var segment in segments)
        {
            if (segment is PositionSegment.Media { Layout: PositionLayout.Grid g })
            {
                var rows = g.Temporal == 1 ? images.narrow(0, imageRow, g.TokenCount) : video;
                imageRow += g.Temporal == 1 ? g.TokenCount : 0;
                parts.Add(new SequenceSegment.Embeddings(rows));
            }
            else
            {
                parts.Add(new SequenceSegment.Tokens(ids[at..(at + segment.Length)].Select(i => (int)i).ToArray()));
            }

            at += segment.Length;
        }

        using var positionTensor = tensor(positions).view(3, ids.Length);
        using var logits = new TextGenerator(model).AllLogits(new SequenceInput(parts, positionTensor));

        double maxDiff = (logits - expected).abs().max().item<float>();
        Assert.True(maxDiff <= 1e-4, $"max |diff| = {maxDiff:E2}");
    }

    [Fact]
    public void TextOnly_LogitsMatch_AndPositionsAreArange()
    {
        using var reference = SafeTensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        using var ids = reference.Load("text_input_ids");
        using var expected = reference.Load("text_logits");
        using var model = CheckpointLoader.Load(Dir, ScalarType.Float32, CPU).Model;

        using var logits = new TextGenerator(model).AllLogits(ids.data<long>().Select(i => (int)i).ToArray());

        Assert.True(logits.allclose(expected, rtol: 0, atol: 1e-4));
    }
}

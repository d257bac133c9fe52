using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>The embeddings-in API plugins feed: spliced embeddings and explicit (M-RoPE) positions.</summary>
[Collection(TorchCollection.Name)]
public sealed class SequenceInputTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private CausalLM Load(string family, Func<string, string>? editConfig = null)
    {
        string path = _dir.Combine(family + (editConfig is null ? "" : "-edited"));
        TinyCheckpoint.Write(path, family, new TinyCheckpoint.Shape(), seed: 5);
        if (editConfig is not null)
        {
            string file = Path.Combine(path, "config.json");
            File.WriteAllText(file, editConfig(File.ReadAllText(file)));
        }

        return CheckpointLoader.Load(path, ScalarType.Float32, CPU).Model;
    }

    [Fact]
    public void EmbeddingSpan_EqualToTokenEmbeddings_GivesTheSameLogits()
    {
        using var model = Load("qwen2");
        var generator = new TextGenerator(model);
        int[] ids = [5, 17, 99, 3, 42, 7, 8];
        using var middle = model.Embed(tensor(new long[] { 99, 3, 42 }).unsqueeze(0)).squeeze(0);     // [3, D]
        var mixed = new SequenceInput([
            new SequenceSegment.Tokens([5, 17]),
            new SequenceSegment.Embeddings(middle),
            new SequenceSegment.Tokens([7, 8]),
        ]);

        using var expected = generator.AllLogits(ids);
        using var actual = generator.AllLogits(mixed);

        Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void ExplicitPositions_ChangeTheResult_AndDefaultEqualsArange()
    {
        using var model = Load("llama");
        var generator = new TextGenerator(model);
        int[] ids = [1, 2, 3, 4, 5];
        using var arangePositions = arange(5, dtype: ScalarType.Int64);
        // RoPE is relative: a uniform shift changes nothing, so skip ahead part-way instead.
        using var shifted = tensor(new long[] { 0, 1, 2, 10, 11 });

        using var plain = generator.AllLogits(ids);
        using var explicitSame = generator.AllLogits(new SequenceInput([new SequenceSegment.Tokens(ids)], arangePositions));
        using var explicitShifted = generator.AllLogits(new SequenceInput([new SequenceSegment.Tokens(ids)], shifted));

        Assert.True(plain.allclose(explicitSame, rtol: 0, atol: 1e-6));
        Assert.False(plain.allclose(explicitShifted, rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void MRope_ThreeEqualRows_ReducesToOneDimensionalRope()
    {
        // A Qwen2 text model with mrope_section (as in Qwen2.5-VL) must give text-only logits equal to 1-D RoPE.
        using var model = Load("qwen2", c => c.Replace("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"mrope\", \"mrope_section\": [2, 3, 3]}", StringComparison.Ordinal));
        var generator = new TextGenerator(model);
        int[] ids = [9, 8, 7, 6, 5, 4];
        using var rows = arange(6, dtype: ScalarType.Int64).unsqueeze(0).expand(3, 6).contiguous();

        using var oneD = generator.AllLogits(ids);
        using var threeRows = generator.AllLogits(new SequenceInput([new SequenceSegment.Tokens(ids)], rows));

        Assert.True(oneD.allclose(threeRows, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void MRope_DifferentRows_UseEachStreamForItsBand()
    {
        using var model = Load("qwen2", c => c.Replace("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"mrope\", \"mrope_section\": [2, 3, 3]}", StringComparison.Ordinal));
        var generator = new TextGenerator(model);
        int[] ids = [9, 8, 7, 6];
        // A 2x2 "image" grid: t fixed, h and w vary — differs from any 1-D layout.
        using var grid = tensor(new long[] { 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1 }).view(3, 4);
        var input = new SequenceInput([new SequenceSegment.Tokens(ids)], grid);

        using var gridLogits = generator.AllLogits(input);
        using var oneD = generator.AllLogits(ids);

        Assert.Equal(2, input.NextPosition);
        Assert.False(gridLogits.allclose(oneD, rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void SequenceInput_WrongPositionShape_IsRejected()
    {
        using var bad = arange(4, dtype: ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => new SequenceInput([new SequenceSegment.Tokens([1, 2, 3])], bad));
    }
}

using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>
/// Logits and greedy continuations of tiny Qwen2 / Llama-3.1 checkpoints against the committed reference run
/// (tools/parity/make_text_fixtures.py: a plain-PyTorch port of transformers' modeling_qwen2 / modeling_llama).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ParityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    public static TheoryData<string> Models => new() { "qwen2-tiny", "qwen2-tiny-untied", "llama31-tiny", "llama31-tiny-tied" };

    private static string Dir(string name) => Path.Combine(RepoPaths.Fixtures, "parity", name);

    private static Tensor Reference(string name, string tensorName)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Dir(name), "reference.safetensors"));
        return file.Load(tensorName);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Fp32Logits_MatchReferenceWithin1e4(string name)
    {
        using var model = CheckpointLoader.Load(Dir(name), ScalarType.Float32, CPU).Model;
        using var ids = Reference(name, "input_ids");
        using var expected = Reference(name, "logits");

        using var actual = new TextGenerator(model).AllLogits(ids.data<long>().Select(i => (int)i).ToArray());

        double maxDiff = (actual - expected).abs().max().item<float>();
        output.WriteLine($"{name}: fp32 max |diff| = {maxDiff:E2}");
        Assert.True(maxDiff <= 1e-4, $"{name}: fp32 max |diff| = {maxDiff:E2}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Greedy64Tokens_AreIdentical(string name)
    {
        using var model = CheckpointLoader.Load(Dir(name), ScalarType.Float32, CPU).Model;
        using var ids = Reference(name, "input_ids");
        using var expected = Reference(name, "greedy_ids");

        var generated = new TextGenerator(model).Generate([ids.data<long>().Select(i => (int)i).ToArray()], 64, SamplingOptions.Greedy, [])[0];

        Assert.Equal(expected.data<long>().Select(i => (int)i).ToArray(), generated.Tokens);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Bf16Logits_AgreeWithReferenceBf16(string name)
    {
        // Stated tolerance: bf16 has 8 significant bits and the two runs order bf16 ops differently (SDPA vs eager),
        // so logits may differ by a few bf16 ulps of values ~5: max |diff| <= 0.25, and the top-1 token agrees on
        // at least 22 of 24 positions.
        using var model = CheckpointLoader.Load(Dir(name), ScalarType.BFloat16, CPU).Model;
        using var ids = Reference(name, "input_ids");
        using var expected = Reference(name, "logits_bf16");

        using var actual = new TextGenerator(model).AllLogits(ids.data<long>().Select(i => (int)i).ToArray());

        double maxDiff = (actual - expected).abs().max().item<float>();
        long agree = actual.argmax(-1).eq(expected.argmax(-1)).sum().item<long>();
        output.WriteLine($"{name}: bf16 max |diff| = {maxDiff:F4}, top-1 agrees {agree}/24");
        Assert.True(maxDiff <= 0.25, $"{name}: bf16 max |diff| = {maxDiff:F4}");
        Assert.True(agree >= 22, $"{name}: top-1 agrees on {agree}/24 positions");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LeftPaddedBatch_LastLogitsMatchEachRowAlone(string name)
    {
        using var model = CheckpointLoader.Load(Dir(name), ScalarType.Float32, CPU).Model;
        using var batchIds = Reference(name, "batch_input_ids");
        using var mask = Reference(name, "batch_attention_mask");
        using var expected = Reference(name, "batch_last_logits");
        var rows = Enumerable.Range(0, (int)batchIds.shape[0]).Select(r =>
        {
            long[] ids = batchIds[r].data<long>().ToArray();
            long[] m = mask[r].data<long>().ToArray();
            return (IReadOnlyList<int>)ids.Where((_, i) => m[i] == 1).Select(i => (int)i).ToArray();
        }).ToArray();

        using var cache = model.NewCache(rows.Length, 24);
        int width = rows.Max(r => r.Count);
        using var scope = NewDisposeScope();
        var ids2 = zeros(rows.Length, width, dtype: ScalarType.Int64);
        var valid = zeros(rows.Length, width, dtype: ScalarType.Bool);
        var pos = zeros(rows.Length, width, dtype: ScalarType.Int64);
        for (int r = 0; r < rows.Length; r++)
        {
            int pad = width - rows[r].Count;
            ids2[r].narrow(0, pad, rows[r].Count).copy_(tensor(rows[r].Select(i => (long)i).ToArray()));
            valid[r].narrow(0, pad, rows[r].Count).fill_(true);
            pos[r].narrow(0, pad, rows[r].Count).copy_(arange(rows[r].Count, dtype: ScalarType.Int64));
        }

        var last = model.Forward(model.Embed(ids2), pos, valid, cache, lastOnly: true).squeeze(1);

        double maxDiff = (last - expected).abs().max().item<float>();
        output.WriteLine($"{name}: batched max |diff| = {maxDiff:E2}");
        Assert.True(maxDiff <= 1e-4, $"{name}: batched max |diff| = {maxDiff:E2}");
    }
}

using JudgeHost.Backbone;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace JudgeHost.Tests.Backbone;

// The fused decode passes against the libtorch op compositions they replace (the reference modules' own formulas).
[Collection(TorchCollection.Name)]
public sealed class DecodeOpsTests
{
    [Theory]
    [InlineData(1, 896)]
    [InlineData(16, 896)]
    [InlineData(3, 40)]    // a 16-wide body and a scalar tail of 8
    public void RmsNorm_MatchesTheTransformersFormula(int rows, int d)
    {
        if (!DecodeOps.Supported)
        {
            return;
        }

        var gen = manual_seed(rows + d);
        using var x = (randn([rows, 1, d], generator: gen) * 3).to(ScalarType.BFloat16);
        using var w = (randn([d], generator: gen) + 1).to(ScalarType.BFloat16);
        Assert.True(DecodeOps.Applies(rows, x, w));

        using var actual = DecodeOps.RmsNorm(x, w, 1e-6);

        AssertNearlyEqual(Reference(x, w, 1e-6), actual);
    }

    [Fact]
    public void AddRmsNorm_AddsAsLibtorchAndNormsTheSum()
    {
        if (!DecodeOps.Supported)
        {
            return;
        }

        var gen = manual_seed(7);
        using var x = randn([5, 1, 896], generator: gen).to(ScalarType.BFloat16);
        using var a = randn([5, 1, 896], generator: gen).to(ScalarType.BFloat16);
        using var w = randn([896], generator: gen).to(ScalarType.BFloat16);

        var (sum, normed) = DecodeOps.AddRmsNorm(x, a, w, 1e-5);

        using var expectedSum = x + a;
        Assert.True(sum.eq(expectedSum).all().item<bool>(), "the bf16 sum differs from libtorch's");
        using var plainSum = DecodeOps.Add(x, a);
        Assert.True(plainSum.eq(expectedSum).all().item<bool>(), "DecodeOps.Add differs from libtorch's");
        AssertNearlyEqual(Reference(expectedSum, w, 1e-5), normed);
        sum.Dispose();
        normed.Dispose();
    }

    [Theory]
    [InlineData(2, 3, 14, 64)]   // Qwen2-0.5B's heads, vector path
    [InlineData(1, 1, 2, 24)]    // a half of 12: the scalar path
    public void Rope_IsBitForBitTheOpComposition(int b, int s, int heads, int d)
    {
        if (!DecodeOps.Supported)
        {
            return;
        }

        var gen = manual_seed(b + s + heads + d);
        using var x = randn([b, s, heads * d], generator: gen).to(ScalarType.BFloat16);
        using var angles = rand([b, s, d], generator: gen) * 100;
        using var cos = angles.cos().to(ScalarType.BFloat16);
        using var sin = angles.sin().to(ScalarType.BFloat16);

        using var actual = DecodeOps.Rope(x, heads, cos, sin);

        using var q = x.view(b, s, heads, d).transpose(1, 2);
        using var rotated = cat([-q.narrow(-1, d / 2, d / 2), q.narrow(-1, 0, d / 2)], -1);
        using var expected = (q * cos.unsqueeze(1)) + (rotated * sin.unsqueeze(1));
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.eq(expected).all().item<bool>(), "rotary output differs from the libtorch ops");
    }

    [Theory]
    [InlineData(16, 4864)]
    [InlineData(1, 37)]   // a scalar tail
    public void SiluMul_MatchesLibtorch(int rows, int d)
    {
        if (!DecodeOps.Supported)
        {
            return;
        }

        var gen = manual_seed(rows + d);
        using var gate = (randn([rows, 1, d], generator: gen) * 4).to(ScalarType.BFloat16);
        using var up = randn([rows, 1, d], generator: gen).to(ScalarType.BFloat16);

        using var actual = DecodeOps.SiluMul(gate, up);

        AssertNearlyEqual(F.silu(gate) * up, actual);
    }

    [Fact]
    public void Applies_NotToGradientsFloat32OrManyRows()
    {
        using var x = zeros([2, 8], ScalarType.BFloat16);
        using var g = zeros([2, 8], ScalarType.BFloat16).requires_grad_(true);
        using var f = zeros([2, 8]);

        Assert.Equal(DecodeOps.Supported, DecodeOps.Applies(2, x));
        Assert.False(DecodeOps.Applies(2, x, g));
        Assert.False(DecodeOps.Applies(2, f));
        Assert.False(DecodeOps.Applies(DecodeOps.MaxRows + 1, x));
    }

    // transformers' Qwen2RMSNorm.forward in libtorch ops.
    private static Tensor Reference(Tensor x, Tensor w, double eps)
    {
        var f = x.to(ScalarType.Float32);
        var variance = f.pow(2).mean([-1], keepdim: true);
        return w * (f * rsqrt(variance + eps)).to(ScalarType.BFloat16);
    }

    // Equal except for the fp32 summation order / exp's last bit: at most one bf16 ulp apart, and nearly all equal.
    private static void AssertNearlyEqual(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.to(ScalarType.Float32);
        using var a = actual.to(ScalarType.Float32);
        using var diff = (a - e).abs();
        using var ulp = e.abs() * (1.0 / 128) + 1e-30;
        Assert.True(diff.le(ulp).all().item<bool>(), $"max diff {diff.max().item<float>()}");
        double same = diff.eq(0).to(ScalarType.Float32).mean().item<float>();
        Assert.True(same >= 0.99, $"only {same:P1} of the values are identical");
    }
}

using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

[Collection(TorchCollection.Name)]
public sealed class Bf16GemvTests
{
    [Theory]
    [InlineData(64, 896, true)]     // multiple of 32 columns, with bias
    [InlineData(257, 72, false)]    // odd row count, a column count with an 8-wide tail
    [InlineData(4864, 896, false)]  // MLP-sized, split over the cores
    public void Linear_MatchesFp32ReferenceRoundedToBf16(int rows, int cols, bool withBias)
    {
        if (!Bf16Gemv.Supported)
        {
            return; // no AVX2/FMA here: the model uses libtorch's kernel instead
        }

        var gen = manual_seed(rows + cols);
        using var w = randn([rows, cols], generator: gen).to(ScalarType.BFloat16);
        using var x = randn([1, 1, cols], generator: gen).to(ScalarType.BFloat16);
        using var b = withBias ? randn([rows], generator: gen).to(ScalarType.BFloat16) : null;

        Assert.True(Bf16Gemv.Applies(x, w));
        using var actual = Bf16Gemv.Linear(x, w, b);

        Assert.Equal([1L, 1L, rows], actual.shape);
        AssertWithinOneBf16Ulp(actual, x, w, b);
    }

    // Reference: the same bf16 inputs, exact fp32 (fp64 here) accumulation, one rounding to bf16.
    private static void AssertWithinOneBf16Ulp(Tensor actual, Tensor x, Tensor w, Tensor? b)
    {
        using var reference = nn.functional.linear(x.to(ScalarType.Float64), w.to(ScalarType.Float64), b?.to(ScalarType.Float64)).to(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, actual.dtype);
        using var diff = (actual.to(ScalarType.Float32) - reference.to(ScalarType.Float32)).abs();
        using var tolerance = reference.to(ScalarType.Float32).abs() * (1.0 / 128) + 1e-3;   // at most one bf16 ulp apart
        Assert.True(diff.le(tolerance).all().item<bool>(), $"max diff {diff.max().item<float>()}");
    }

    [Fact]
    public void Applies_OnlyToSingleBf16RowsOnCpu()
    {
        using var w = zeros([8, 16], ScalarType.BFloat16);
        using var two = zeros([2, 16], ScalarType.BFloat16);
        using var fp32 = zeros([1, 16]);

        Assert.False(Bf16Gemv.Applies(two, w));
        Assert.False(Bf16Gemv.Applies(fp32, w));
    }

    [Theory]
    [InlineData(2, 64, 896, true)]      // a pair of rows (both orders of a pairwise prompt), with bias
    [InlineData(3, 257, 96, false)]     // a 2 + 1 row split, a weight-row count that leaves a partial group of four
    [InlineData(8, 4864, 896, false)]   // MLP-sized, two tiles of four rows, split over the cores
    [InlineData(7, 130, 4864, true)]    // long rows, 4 + 2 + 1 row tiles
    [InlineData(13, 66, 896, true)]     // 4 + 4 + 4 + 1 rows, a partial group of two weight rows, with bias
    [InlineData(16, 4864, 896, false)]  // the most rows: 16 streams of batched decode
    [InlineData(6, 40, 2080, true)]     // rows longer than the dot kernel's 1,024-column pass, ending in a short one
    public void Gemm_MatchesFp32ReferenceRoundedToBf16(int m, int rows, int cols, bool withBias)
    {
        if (!Bf16Gemm.Supported)
        {
            return; // no AVX-512 here: the model uses libtorch's kernel instead
        }

        var gen = manual_seed(m + rows + cols);
        using var w = randn([rows, cols], generator: gen).to(ScalarType.BFloat16);
        using var x = randn([m, 1, cols], generator: gen).to(ScalarType.BFloat16);
        using var b = withBias ? randn([rows], generator: gen).to(ScalarType.BFloat16) : null;

        Assert.True(Bf16Gemm.Applies(x, w));
        bool dotDefault = Bf16Gemm.UseDotInstructions;
        try
        {
            // Both kernels where this CPU has AVX512-BF16; the fp32 one alone elsewhere.
            foreach (bool dot in dotDefault ? new[] { true, false } : [false])
            {
                Bf16Gemm.UseDotInstructions = dot;
                using var actual = ManagedLinear.Linear(x, w, b);

                Assert.Equal([(long)m, 1L, rows], actual.shape);
                AssertWithinOneBf16Ulp(actual, x, w, b);
            }
        }
        finally
        {
            Bf16Gemm.UseDotInstructions = dotDefault;
        }
    }

    [Fact]
    public void DotKernel_IsMappedWhereTheCpuHasAvx512Bf16()
    {
        bool bf16 = System.Runtime.Intrinsics.X86.Avx512F.IsSupported && (System.Runtime.Intrinsics.X86.X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;
        if (!bf16 || !OperatingSystem.IsLinux())
        {
            return; // elsewhere the fp32 kernel serves, as checked above
        }

        Assert.Null(JudgeHost.Backbone.Native.ExecutableCode.Unavailable);
        Assert.True(Bf16Gemm.UseDotInstructions);
    }

    [Fact]
    public void Gemm_AppliesOnlyToAFewBf16RowsOnCpu_WithWholeBlocksOf32Columns()
    {
        using var w = zeros([8, 64], ScalarType.BFloat16);
        using var one = zeros([1, 64], ScalarType.BFloat16);
        using var many = zeros([Bf16Gemm.MaxRows + 1, 64], ScalarType.BFloat16);
        using var fp32 = zeros([2, 64]);
        using var ragged = zeros([2, 48], ScalarType.BFloat16);
        using var w48 = zeros([8, 48], ScalarType.BFloat16);

        Assert.False(Bf16Gemm.Applies(one, w));
        Assert.False(Bf16Gemm.Applies(many, w));
        Assert.False(Bf16Gemm.Applies(fp32, w));
        Assert.False(Bf16Gemm.Applies(ragged, w48));
    }

    [Theory]
    [InlineData(1, ScalarType.BFloat16)]   // the single-row kernel
    [InlineData(5, ScalarType.BFloat16)]   // the few-row kernel
    [InlineData(5, ScalarType.Float32)]    // libtorch
    public void LinearMany_GivesEachProjectionAsAlone(int m, ScalarType dtype)
    {
        var gen = manual_seed(m);
        using var x = randn([m, 1, 96], generator: gen).to(dtype);
        var projections = new[] { (130, true), (36, false), (200, true) }
            .Select(p => (randn([p.Item1, 96], generator: gen).to(dtype), p.Item2 ? (Tensor?)randn([p.Item1], generator: gen).to(dtype) : null))
            .ToArray();

        var together = ManagedLinear.LinearMany(x, projections);

        Assert.Equal(projections.Length, together.Length);
        for (int i = 0; i < projections.Length; i++)
        {
            using var alone = ManagedLinear.Linear(x, projections[i].Item1, projections[i].Item2);
            Assert.Equal(alone.shape, together[i].shape);
            Assert.True(alone.eq(together[i]).all().item<bool>(), $"projection {i} differs");
            if (dtype == ScalarType.BFloat16 && Bf16Gemm.Supported)
            {
                AssertWithinOneBf16Ulp(together[i], x, projections[i].Item1, projections[i].Item2);
            }
        }
    }

    [Fact]
    public void Kernels_RefuseABiasTheyCannotRead()
    {
        using var w = randn([8, 64]).to(ScalarType.BFloat16);
        using var x = randn([2, 64]).to(ScalarType.BFloat16);
        using var fp32Bias = randn([8]);
        using var shortBias = randn([7]).to(ScalarType.BFloat16);

        Assert.Throws<ArgumentException>(() => Bf16Gemv.Linear(x[..1], w, fp32Bias));
        Assert.Throws<ArgumentException>(() => Bf16Gemm.Linear(x, w, shortBias));
    }

    [Fact]
    public void ManagedLinear_LeavesProductsThatAutogradRecordsToLibtorch()
    {
        using var w = randn([64, 64]).to(ScalarType.BFloat16).requires_grad_(true);
        using var x = randn([2, 64]).to(ScalarType.BFloat16);

        using var y = ManagedLinear.Linear(x, w, null);
        y.sum().backward();

        Assert.NotNull(w.grad);
    }
}

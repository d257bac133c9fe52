using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// The small elementwise steps of a bf16 decode step on the CPU, each fused into one managed pass: RMSNorm (eight
/// libtorch ops), the residual add before it, rotary embedding (a dozen ops per projection) and SiLU(gate)·up. On a
/// Qwen2-0.5B decode step these are ~800 tiny libtorch calls whose dispatch, allocation and scope bookkeeping cost
/// more than their arithmetic. Each pass rounds where the libtorch composition rounds, so outputs are the ops' own:
/// rotary and the residual add bit for bit; RMSNorm and SiLU up to the fp32 summation order of the variance and the
/// last bit of exp, i.e. a bf16 ulp on rare ties. Used for a few rows (decode) outside autograd, with AVX-512.
/// </summary>
public static class DecodeOps
{
    /// <summary>The most rows (batch × new tokens) the fused passes take; prefill stays with libtorch's threaded kernels.</summary>
    public const int MaxRows = 64;

    public static bool Supported => Bf16Gemm.Supported;

    /// <summary>Whether bf16 CPU tensors of <paramref name="rows"/> rows, none recorded by autograd, take the fused passes.</summary>
    public static bool Applies(long rows, params ReadOnlySpan<Tensor> tensors)
    {
        if (!Supported || rows > MaxRows)
        {
            return false;
        }

        foreach (var t in tensors)
        {
            if (t.dtype != ScalarType.BFloat16 || t.device_type != DeviceType.CPU || t.requires_grad || !t.is_contiguous())
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether two bf16 tensors of one shape (rows of their last dimension) take an elementwise fused pass.</summary>
    public static bool AppliesElementwise(Tensor x, Tensor a) =>
        Applies(x.NumberOfElements / x.shape[^1], x, a) && a.shape.SequenceEqual(x.shape);

    /// <summary>
    /// transformers' RMSNorm of bf16 rows: <c>weight * (x32 * rsqrt(mean(x32²) + eps)).to(bf16)</c>, the statistics
    /// in fp32, the normalized row rounded to bf16 before the bf16 weight multiplies it.
    /// </summary>
    public static unsafe Tensor RmsNorm(Tensor x, Tensor weight, double eps)
    {
        int d = (int)x.shape[^1];
        var y = empty(x.shape, ScalarType.BFloat16);
        fixed (byte* xp = x.bytes)
        fixed (byte* wp = weight.bytes)
        fixed (byte* yp = y.bytes)
        {
            RmsNorm((ushort*)xp, (ushort*)wp, (ushort*)yp, (int)(x.NumberOfElements / d), d, (float)eps);
        }

        return y;
    }

    /// <summary><see cref="RmsNorm(Tensor, Tensor, double)"/> of <paramref name="rows"/> contiguous rows of <paramref name="d"/> values.</summary>
    internal static unsafe void RmsNorm(ushort* x, ushort* w, ushort* y, int rows, int d, float eps)
    {
        for (int r = 0; r < rows; r++)
        {
            NormRow(x + ((long)r * d), w, y + ((long)r * d), d, eps);
        }
    }

    /// <summary>The residual add <c>x + a</c> (bf16, as libtorch adds) and the RMSNorm of the sum, in one pass.</summary>
    public static unsafe (Tensor Sum, Tensor Normed) AddRmsNorm(Tensor x, Tensor a, Tensor weight, double eps)
    {
        int d = (int)x.shape[^1];
        var sum = empty(x.shape, ScalarType.BFloat16);
        var y = empty(x.shape, ScalarType.BFloat16);
        fixed (byte* xp = x.bytes)
        fixed (byte* ap = a.bytes)
        fixed (byte* sp = sum.bytes)
        fixed (byte* wp = weight.bytes)
        fixed (byte* yp = y.bytes)
        {
            AddRmsNorm((ushort*)xp, (ushort*)ap, (ushort*)sp, (ushort*)wp, (ushort*)yp, (int)(x.NumberOfElements / d), d, (float)eps);
        }

        return (sum, y);
    }

    /// <summary><see cref="AddRmsNorm(Tensor, Tensor, Tensor, double)"/> of contiguous rows: the sums into <paramref name="sum"/>, their norms into <paramref name="y"/>.</summary>
    internal static unsafe void AddRmsNorm(ushort* x, ushort* a, ushort* sum, ushort* w, ushort* y, int rows, int d, float eps)
    {
        for (int r = 0; r < rows; r++)
        {
            long o = (long)r * d;
            Add(x + o, a + o, sum + o, d);
            NormRow(sum + o, w, y + o, d, eps);
        }
    }

    /// <summary>The residual add <c>x + a</c> of two bf16 tensors of one shape, rounded as libtorch's bf16 add.</summary>
    public static unsafe Tensor Add(Tensor x, Tensor a)
    {
        var sum = empty(x.shape, ScalarType.BFloat16);
        fixed (byte* xp = x.bytes)
        fixed (byte* ap = a.bytes)
        fixed (byte* sp = sum.bytes)
        {
            Add((ushort*)xp, (ushort*)ap, (ushort*)sp, (int)x.NumberOfElements);
        }

        return sum;
    }

    /// <summary>
    /// Rotary embedding of a projection's output <c>[B, S, H·d]</c>: returns <c>[B, H, S, d]</c> (contiguous) =
    /// <c>x·cos + rotate_half(x)·sin</c> with each product and the sum rounded to bf16, as the libtorch ops round.
    /// <paramref name="cos"/> and <paramref name="sin"/> are bf16 <c>[B, S, d]</c>.
    /// </summary>
    public static unsafe Tensor Rope(Tensor x, int heads, Tensor cos, Tensor sin)
    {
        int b = (int)x.shape[0], s = (int)x.shape[1];
        int d = (int)(x.shape[2] / heads);
        var y = empty([b, heads, s, d], ScalarType.BFloat16);
        fixed (byte* xp = x.bytes)
        fixed (byte* cp = cos.bytes)
        fixed (byte* snp = sin.bytes)
        fixed (byte* yp = y.bytes)
        {
            Rope((ushort*)xp, b, s, heads, d, (ushort*)cp, (ushort*)snp, (ushort*)yp, (long)heads * s * d, (long)s * d, d);
        }

        return y;
    }

    /// <summary>
    /// <see cref="Rope(Tensor, int, Tensor, Tensor)"/> on raw operands: x <c>[B, S, H·d]</c> and cos/sin <c>[B, S, d]</c>
    /// contiguous; head h of token (b, s) written at y + b·<paramref name="yb"/> + h·<paramref name="yh"/> + s·<paramref name="ys"/>
    /// (a KV cache's slot, for instance).
    /// </summary>
    internal static unsafe void Rope(ushort* x, int b, int s, int heads, int d, ushort* cos, ushort* sin, ushort* y, long yb, long yh, long ys)
    {
        for (long bi = 0; bi < b; bi++)
        {
            for (long si = 0; si < s; si++)
            {
                long token = (bi * s) + si;
                for (int h = 0; h < heads; h++)
                {
                    RotateRow(x + (((token * heads) + h) * d), cos + (token * d), sin + (token * d), y + (bi * yb) + (h * yh) + (si * ys), d);
                }
            }
        }
    }

    /// <summary><c>silu(gate) * up</c> for bf16 tensors of one shape: SiLU in fp32 (x / (1 + exp(-x))) rounded to bf16, then the bf16 product.</summary>
    public static unsafe Tensor SiluMul(Tensor gate, Tensor up)
    {
        int n = (int)gate.NumberOfElements;
        var y = empty(gate.shape, ScalarType.BFloat16);
        fixed (byte* gp = gate.bytes)
        fixed (byte* up_ = up.bytes)
        fixed (byte* yp = y.bytes)
        {
            SiluMul((ushort*)gp, (ushort*)up_, (ushort*)yp, n);
        }

        return y;
    }

    internal static unsafe void SiluMul(ushort* g, ushort* u, ushort* o, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var x = Bf16Gemm.Load16(g + i);
            var silu = Bf16Gemm.RoundToBf16(x / (Vector512<float>.One + Vector512.Exp(-x)));
            Bf16Gemm.Store16(o + i, silu * Bf16Gemm.Load16(u + i));
        }

        for (; i < n; i++)
        {
            float x = Bf16Gemv.FromBf16(g[i]);
            float silu = Bf16Gemv.FromBf16(Bf16Gemv.ToBf16(x / (1 + MathF.Exp(-x))));
            o[i] = Bf16Gemv.ToBf16(silu * Bf16Gemv.FromBf16(u[i]));
        }
    }

    private static unsafe void NormRow(ushort* x, ushort* w, ushort* y, int d, float eps)
    {
        // libtorch squares (pow(2) rounds each square to fp32), sums in fp32 and divides by d.
        var acc = Vector512<float>.Zero;
        int i = 0;
        for (; i + 16 <= d; i += 16)
        {
            var v = Bf16Gemm.Load16(x + i);
            acc += v * v;
        }

        float sq = Vector512.Sum(acc);
        for (; i < d; i++)
        {
            float v = Bf16Gemv.FromBf16(x[i]);
            sq += v * v;
        }

        float variance = sq / d;
        float inv = 1f / MathF.Sqrt(variance + eps);
        var invV = Vector512.Create(inv);
        for (i = 0; i + 16 <= d; i += 16)
        {
            Bf16Gemm.Store16(y + i, Bf16Gemm.Load16(w + i) * Bf16Gemm.RoundToBf16(Bf16Gemm.Load16(x + i) * invV));
        }

        for (; i < d; i++)
        {
            y[i] = Bf16Gemv.ToBf16(Bf16Gemv.FromBf16(w[i]) * Bf16Gemv.FromBf16(Bf16Gemv.ToBf16(Bf16Gemv.FromBf16(x[i]) * inv)));
        }
    }

    internal static unsafe void Add(ushort* x, ushort* a, ushort* y, int d)
    {
        int i = 0;
        for (; i + 16 <= d; i += 16)
        {
            Bf16Gemm.Store16(y + i, Bf16Gemm.Load16(x + i) + Bf16Gemm.Load16(a + i));
        }

        for (; i < d; i++)
        {
            y[i] = Bf16Gemv.ToBf16(Bf16Gemv.FromBf16(x[i]) + Bf16Gemv.FromBf16(a[i]));
        }
    }

    // One head's d values: out[j] = bf16(bf16(x[j]·cos[j]) + bf16(r[j]·sin[j])), r = (-x[half..], x[..half]).
    private static unsafe void RotateRow(ushort* x, ushort* cos, ushort* sin, ushort* y, int d)
    {
        int half = d / 2;
        int j = 0;
        if (half % 16 == 0)
        {
            for (; j < half; j += 16)
            {
                var lo = Bf16Gemm.Load16(x + j);
                var hi = Bf16Gemm.Load16(x + half + j);
                var loCos = Bf16Gemm.RoundToBf16(lo * Bf16Gemm.Load16(cos + j));
                var hiSin = Bf16Gemm.RoundToBf16(-hi * Bf16Gemm.Load16(sin + j));
                var hiCos = Bf16Gemm.RoundToBf16(hi * Bf16Gemm.Load16(cos + half + j));
                var loSin = Bf16Gemm.RoundToBf16(lo * Bf16Gemm.Load16(sin + half + j));
                Bf16Gemm.Store16(y + j, loCos + hiSin);
                Bf16Gemm.Store16(y + half + j, hiCos + loSin);
            }

            return;
        }

        for (; j < d; j++)
        {
            float rot = j < half ? -Bf16Gemv.FromBf16(x[j + half]) : Bf16Gemv.FromBf16(x[j - half]);
            float a = Bf16Gemv.FromBf16(Bf16Gemv.ToBf16(Bf16Gemv.FromBf16(x[j]) * Bf16Gemv.FromBf16(cos[j])));
            float b = Bf16Gemv.FromBf16(Bf16Gemv.ToBf16(rot * Bf16Gemv.FromBf16(sin[j])));
            y[j] = Bf16Gemv.ToBf16(a + b);
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// y = x Wᵀ (+ b) for a few bfloat16 rows on the CPU — batched decode, one row per stream — with the arithmetic of
/// <see cref="Bf16Gemv"/>: bf16 → fp32 by a 16-bit shift, fp32 fused multiply-add, one round-to-nearest-even to bf16
/// at the end. libtorch's bf16 GEMM (oneDNN) streams the weights at about a third of memory bandwidth for 2–32 rows;
/// here each pair of weight rows is widened once per 16 columns and multiplied into up to 8 activation rows held in
/// sixteen AVX-512 accumulators, so the weights are read once per product and the work is bound by the FMA units,
/// not by memory. Rows are split over the cores by <see cref="GemvWorkers"/>. Used only where AVX-512 exists.
/// </summary>
public static class Bf16Gemm
{
    /// <summary>
    /// The most activation rows this kernel takes. Without AVX512-BF16 from .NET it multiplies in fp32, half the
    /// rate of oneDNN's bf16 dot products, so from ~16 rows (where the product stops being bound by memory) libtorch
    /// is faster.
    /// </summary>
    public const int MaxRows = 8;

    public static bool Supported { get; } = Avx512F.IsSupported && Avx512BW.IsSupported && BitConverter.IsLittleEndian;

    /// <summary>Whether <paramref name="x"/> (any leading shape, 2..<see cref="MaxRows"/> rows) times <paramref name="weight"/> can take this path.</summary>
    public static bool Applies(Tensor x, Tensor weight)
    {
        if (!Supported || x.dtype != ScalarType.BFloat16 || weight.dtype != ScalarType.BFloat16
            || x.device_type != DeviceType.CPU || weight.device_type != DeviceType.CPU
            || !x.is_contiguous() || !weight.is_contiguous() || weight.NumberOfElements * 2 >= int.MaxValue)
        {
            return false;
        }

        long cols = weight.shape[1];
        long rows = x.NumberOfElements / Math.Max(1, cols);
        return cols % 32 == 0 && x.shape[^1] == cols && rows >= 2 && rows <= MaxRows;
    }

    /// <summary>Computes linear(x, weight, bias); returns bf16 with x's leading shape and weight.shape[0] columns.</summary>
    public static unsafe Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        int n = (int)weight.shape[0];
        int k = (int)weight.shape[1];
        int m = (int)(x.NumberOfElements / k);
        using var biasF = bias?.to(ScalarType.Float32).contiguous();
        var y = empty([.. x.shape[..^1], n], ScalarType.BFloat16);
        float* xp = Scratch(m * k);
        fixed (byte* xb = x.bytes)
        {
            // Each block of 32 columns of x as its 16 even columns, then its 16 odd ones: the order in which a
            // 64-byte load of 32 bf16 weights splits into two fp32 vectors (low halves shifted up; high halves masked).
            var xs = (uint*)xb;
            for (int i = 0; i < m * k; i += 32)
            {
                var pairs = Vector512.Load(xs + (i / 2));
                Vector512.Store(Avx512F.ShiftLeftLogical(pairs, 16).AsSingle(), xp + i);
                Vector512.Store((pairs & Vector512.Create(0xFFFF0000u)).AsSingle(), xp + i + 16);
            }

            fixed (byte* w = weight.bytes)
            fixed (byte* yp = y.bytes)
            fixed (byte* bp = biasF is null ? Span<byte>.Empty : biasF.bytes)
            {
                GemvWorkers.Run(n, new Job((uint*)w, xp, (ushort*)yp, (float*)bp, m, n, k), align: 4);
            }
        }

        return y;
    }

    // The caller's widened activations, reused call to call: 64-byte aligned, so no 512-bit load splits a cache line.
    [ThreadStatic]
    private static ScratchBuffer? t_scratch;

    private static unsafe float* Scratch(int floats)
    {
        var buffer = t_scratch ??= new ScratchBuffer();
        if (buffer.Floats < floats)
        {
            buffer.Resize(floats);
        }

        return buffer.Pointer;
    }

    private sealed unsafe class ScratchBuffer
    {
        public float* Pointer { get; private set; }

        public int Floats { get; private set; }

        public void Resize(int floats)
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(Pointer);
            Pointer = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
            Floats = floats;
        }

        ~ScratchBuffer() => System.Runtime.InteropServices.NativeMemory.AlignedFree(Pointer);
    }

    /// <summary>Output columns [from, to) of y (m rows, n columns) = x (m × k, fp32, blocks split even/odd) Wᵀ (n × k, bf16) + b.</summary>
    private sealed unsafe class Job(uint* w, float* x, ushort* y, float* bias, int m, int n, int k) : IRowJob
    {
        public void Run(int from, int to)
        {
            int half = k / 2;   // weight row length in 32-bit pairs
            for (int r = from; r < to; r += 4)
            {
                int count = Math.Min(4, to - r);
                uint* w0 = w + ((long)r * half);
                uint* w1 = count > 1 ? w0 + half : w0;   // rows past the end repeat the first; they are not written
                uint* w2 = count > 2 ? w0 + (2 * half) : w0;
                uint* w3 = count > 3 ? w0 + (3 * half) : w0;
                int row = 0;
                for (; row + 4 <= m; row += 4)
                {
                    Tile<Four>(w0, w1, w2, w3, x + ((long)row * k), k, y + ((long)row * n) + r, n, bias is null ? null : bias + r, count);
                }

                if (row + 2 <= m)
                {
                    Tile<Two>(w0, w1, w2, w3, x + ((long)row * k), k, y + ((long)row * n) + r, n, bias is null ? null : bias + r, count);
                    row += 2;
                }

                if (row < m)
                {
                    Tile<One>(w0, w1, w2, w3, x + ((long)row * k), k, y + ((long)row * n) + r, n, bias is null ? null : bias + r, count);
                }
            }
        }
    }

    private interface ITile
    {
        static abstract int Rows { get; }
    }

    private struct One : ITile
    {
        public static int Rows => 1;
    }

    private struct Two : ITile
    {
        public static int Rows => 2;
    }

    private struct Four : ITile
    {
        public static int Rows => 4;
    }

    // Four weight rows times T.Rows activation rows (x, stride k): 4 x T.Rows dot products of length k, written to
    // y[i * n + j] for weight row j < count. T.Rows is a constant in each instantiation, so the unused accumulators
    // and their branches compile away.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile<T>(uint* w0, uint* w1, uint* w2, uint* w3, float* x, int k, ushort* y, int n, float* bias, int count)
        where T : struct, ITile
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
        var high = Vector512.Create(0xFFFF0000u);
        for (int i = 0; i < k; i += 32)
        {
            int p = i / 2;
            var p0 = Vector512.Load(w0 + p);
            var p1 = Vector512.Load(w1 + p);
            var p2 = Vector512.Load(w2 + p);
            var p3 = Vector512.Load(w3 + p);
            for (int part = 0; part < 2; part++)
            {
                // part 0: the even columns of the block (low halves); part 1: the odd ones (high halves).
                var u0 = part == 0 ? Avx512F.ShiftLeftLogical(p0, 16).AsSingle() : (p0 & high).AsSingle();
                var u1 = part == 0 ? Avx512F.ShiftLeftLogical(p1, 16).AsSingle() : (p1 & high).AsSingle();
                var u2 = part == 0 ? Avx512F.ShiftLeftLogical(p2, 16).AsSingle() : (p2 & high).AsSingle();
                var u3 = part == 0 ? Avx512F.ShiftLeftLogical(p3, 16).AsSingle() : (p3 & high).AsSingle();
                float* xi = x + i + (16 * part);
                var xv = Vector512.Load(xi);
                a0 = Avx512F.FusedMultiplyAdd(u0, xv, a0);
                a1 = Avx512F.FusedMultiplyAdd(u1, xv, a1);
                a2 = Avx512F.FusedMultiplyAdd(u2, xv, a2);
                a3 = Avx512F.FusedMultiplyAdd(u3, xv, a3);
                if (T.Rows > 1)
                {
                    xv = Vector512.Load(xi + k);
                    b0 = Avx512F.FusedMultiplyAdd(u0, xv, b0);
                    b1 = Avx512F.FusedMultiplyAdd(u1, xv, b1);
                    b2 = Avx512F.FusedMultiplyAdd(u2, xv, b2);
                    b3 = Avx512F.FusedMultiplyAdd(u3, xv, b3);
                }

                if (T.Rows > 2)
                {
                    xv = Vector512.Load(xi + (2 * k));
                    c0 = Avx512F.FusedMultiplyAdd(u0, xv, c0);
                    c1 = Avx512F.FusedMultiplyAdd(u1, xv, c1);
                    c2 = Avx512F.FusedMultiplyAdd(u2, xv, c2);
                    c3 = Avx512F.FusedMultiplyAdd(u3, xv, c3);
                    xv = Vector512.Load(xi + (3 * k));
                    d0 = Avx512F.FusedMultiplyAdd(u0, xv, d0);
                    d1 = Avx512F.FusedMultiplyAdd(u1, xv, d1);
                    d2 = Avx512F.FusedMultiplyAdd(u2, xv, d2);
                    d3 = Avx512F.FusedMultiplyAdd(u3, xv, d3);
                }
            }
        }

        Write(y, a0, a1, a2, a3, bias, count);
        if (T.Rows > 1)
        {
            Write(y + n, b0, b1, b2, b3, bias, count);
        }

        if (T.Rows > 2)
        {
            Write(y + (2 * n), c0, c1, c2, c3, bias, count);
            Write(y + (3 * n), d0, d1, d2, d3, bias, count);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Write(ushort* y, Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3, float* bias, int count)
    {
        y[0] = Bf16Gemv.ToBf16(Vector512.Sum(s0) + (bias is null ? 0 : bias[0]));
        if (count > 1)
        {
            y[1] = Bf16Gemv.ToBf16(Vector512.Sum(s1) + (bias is null ? 0 : bias[1]));
        }

        if (count > 2)
        {
            y[2] = Bf16Gemv.ToBf16(Vector512.Sum(s2) + (bias is null ? 0 : bias[2]));
        }

        if (count > 3)
        {
            y[3] = Bf16Gemv.ToBf16(Vector512.Sum(s3) + (bias is null ? 0 : bias[3]));
        }
    }
}

/// <summary>
/// linear(x, weight, bias): one bf16 row through <see cref="Bf16Gemv"/>, 2..<see cref="Bf16Gemm.MaxRows"/> rows
/// through <see cref="Bf16Gemm"/>, anything else — and anything autograd must record — through libtorch.
/// </summary>
public static class ManagedLinear
{
    /// <summary>Whether a bf16 CPU forward pass of <paramref name="rows"/> rows runs its products on the managed kernels.</summary>
    public static bool Covers(int rows) => rows == 1 ? Bf16Gemv.Supported : rows <= Bf16Gemm.MaxRows && Bf16Gemm.Supported;

    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        if (!x.is_contiguous())
        {
            // libtorch's CPU bf16 GEMM takes a naive kernel for a strided input (the LM head's [B, 1, D] cut from a
            // batched prefill's [B, S, D] ran ~100x slower), and the managed kernels need the rows side by side.
            x = x.contiguous();
        }

        if (x.requires_grad || weight.requires_grad || (bias?.requires_grad ?? false))
        {
            return nn.functional.linear(x, weight, bias);   // the managed kernels record no gradient
        }

        return Bf16Gemv.Applies(x, weight) ? Bf16Gemv.Linear(x, weight, bias)
            : Bf16Gemm.Applies(x, weight) ? Bf16Gemm.Linear(x, weight, bias)
            : nn.functional.linear(x, weight, bias);
    }
}

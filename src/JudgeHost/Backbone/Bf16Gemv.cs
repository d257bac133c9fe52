using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// Matrix–vector product for single-row decode with bfloat16 weights on the CPU: y = W x (+ b), fp32 accumulation,
/// one bf16 rounding at the end — the same arithmetic as a bf16 GEMM with fp32 accumulators. libtorch's CPU bf16
/// kernel reaches only ~60 % of memory bandwidth for M = 1 on AVX2 machines; this streams each weight row once
/// (bf16 → fp32 by a 16-bit shift, fused multiply-add), split over the cores. Used only when AVX2 and FMA exist.
/// </summary>
public static class Bf16Gemv
{
    public static bool Supported { get; } = Avx2.IsSupported && Fma.IsSupported && BitConverter.IsLittleEndian;

    /// <summary>Whether <paramref name="x"/> (any leading shape, one row) times <paramref name="weight"/> can take this path.</summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        Supported && x.dtype == ScalarType.BFloat16 && weight.dtype == ScalarType.BFloat16
        && x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && x.NumberOfElements == weight.shape[1] && weight.is_contiguous() && weight.shape[1] % 8 == 0
        && weight.NumberOfElements * 2 < int.MaxValue;

    /// <summary>Computes linear(x, weight, bias) for a single row; returns bf16 with x's leading shape and weight.shape[0] columns.</summary>
    public static unsafe Tensor Linear(Tensor x, Tensor weight, Tensor? bias)
    {
        int rows = (int)weight.shape[0];
        int cols = (int)weight.shape[1];
        using var xf = x.reshape(cols).to(ScalarType.Float32).contiguous();
        var y = empty(rows, ScalarType.Float32);
        fixed (byte* w = weight.bytes)
        fixed (byte* xp = xf.bytes)
        fixed (byte* yp = y.bytes)
        {
            var work = new Work((ushort*)w, (float*)xp, (float*)yp, cols);
            int parts = Math.Min(Environment.ProcessorCount, Math.Max(1, rows / 64));
            if (parts == 1)
            {
                work.Run(0, rows);
            }
            else
            {
                Parallel.For(0, parts, p => work.Run(rows * p / parts, rows * (p + 1) / parts));
            }
        }

        if (bias is not null)
        {
            y.add_(bias.to(ScalarType.Float32));
        }

        long[] shape = [.. x.shape[..^1], rows];
        using (y)
        {
            return y.to(ScalarType.BFloat16).view(shape);
        }
    }

    private readonly unsafe struct Work(ushort* w, float* x, float* y, int cols)
    {
        private readonly ushort* _w = w;
        private readonly float* _x = x;
        private readonly float* _y = y;
        private readonly int _cols = cols;

        public void Run(int from, int to)
        {
            for (int r = from; r < to; r++)
            {
                _y[r] = Dot(_w + ((long)r * _cols), _x, _cols);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Dot(ushort* w, float* x, int n)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            var acc2 = Vector256<float>.Zero;
            var acc3 = Vector256<float>.Zero;
            int i = 0;
            for (; i + 32 <= n; i += 32)
            {
                acc0 = Fma.MultiplyAdd(Widen(w + i), Avx.LoadVector256(x + i), acc0);
                acc1 = Fma.MultiplyAdd(Widen(w + i + 8), Avx.LoadVector256(x + i + 8), acc1);
                acc2 = Fma.MultiplyAdd(Widen(w + i + 16), Avx.LoadVector256(x + i + 16), acc2);
                acc3 = Fma.MultiplyAdd(Widen(w + i + 24), Avx.LoadVector256(x + i + 24), acc3);
            }

            for (; i + 8 <= n; i += 8)
            {
                acc0 = Fma.MultiplyAdd(Widen(w + i), Avx.LoadVector256(x + i), acc0);
            }

            var sum = Avx.Add(Avx.Add(acc0, acc1), Avx.Add(acc2, acc3));
            var half = Sse.Add(sum.GetLower(), sum.GetUpper());
            half = Sse.Add(half, Sse.MoveHighToLow(half, half));
            half = Sse.AddScalar(half, Sse.Shuffle(half, half, 0x55));
            return half.ToScalar();
        }

        // 8 bf16 values -> 8 fp32 values: a bf16 is the upper half of an fp32.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Widen(ushort* p) =>
            Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Sse2.LoadVector128(p)), 16).AsSingle();
    }
}

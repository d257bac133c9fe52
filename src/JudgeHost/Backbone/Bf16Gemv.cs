using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// Matrix–vector product for single-row decode with bfloat16 weights on the CPU: y = W x (+ b, bf16), fp32 accumulation,
/// one round-to-nearest-even to bf16 at the end — the arithmetic of a bf16 GEMM with fp32 accumulators. libtorch's
/// CPU bf16 kernel streams weights at ~60 % of memory bandwidth for M = 1 on AVX2 machines; this one streams each
/// row once (bf16 → fp32 by a 16-bit shift, fused multiply-add), split over the cores by <see cref="GemvWorkers"/>
/// (persistent workers that spin briefly, because a decode step issues ~170 of these products and thread-pool
/// wake-ups would cost more than the small ones take). Used only where AVX2 and FMA exist.
/// </summary>
public static class Bf16Gemv
{
    public static bool Supported { get; } = Avx2.IsSupported && Fma.IsSupported && BitConverter.IsLittleEndian;

    /// <summary>Whether <paramref name="x"/> (any leading shape, one row) times <paramref name="weight"/> can take this path.</summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        Supported && x.dtype == ScalarType.BFloat16 && weight.dtype == ScalarType.BFloat16
        && x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && x.NumberOfElements == weight.shape[1] && weight.is_contiguous() && x.is_contiguous() && weight.shape[1] % 8 == 0
        && weight.NumberOfElements * 2 < int.MaxValue;

    /// <summary>Whether <paramref name="bias"/> can go with a managed product: absent, or bf16 on the CPU with one value per output.</summary>
    internal static bool BiasFits(Tensor? bias, Tensor weight) =>
        bias is null || (bias.dtype == ScalarType.BFloat16 && bias.device_type == DeviceType.CPU && bias.is_contiguous() && bias.NumberOfElements == weight.shape[0]);

    /// <summary>Computes linear(x, weight, bias) for a single row; returns bf16 with x's leading shape and weight.shape[0] columns.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias) => ManagedLinear.Run(x, [(weight, RequireBias(bias, weight))], single: true)[0];

    // The direct entry points (callers have checked Applies) refuse a bias the kernels cannot read; ManagedLinear checks
    // BiasFits before it comes to the kernels.
    internal static Tensor? RequireBias(Tensor? bias, Tensor weight) => BiasFits(bias, weight) ? bias
        : throw new ArgumentException($"The managed bf16 products take a contiguous bf16 CPU bias of {weight.shape[0]} values; got {bias!.dtype} [{string.Join(", ", bias.shape)}].", nameof(bias));

    /// <summary>The row's <paramref name="cols"/> bf16 values widened to fp32 in this thread's scratch buffer.</summary>
    internal static unsafe float* Activations(ushort* x, int cols)
    {
        float* xp = ScratchBuffer.Floats(cols);
        for (int i = 0; i < cols; i += 8)
        {
            Avx.Store(xp + i, Widen(x + i));
        }

        return xp;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Widen(ushort* p) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Sse2.LoadVector128(p)), 16).AsSingle();

    /// <summary>One product: rows [from, to) of y = W x + b.</summary>
    internal sealed unsafe class Job(ushort* w, float* x, ushort* y, ushort* bias, int cols) : IRowJob
    {
        public void Run(int from, int to)
        {
            for (int r = from; r < to; r++)
            {
                float v = Dot(w + ((long)r * cols), x, cols);
                y[r] = ToBf16(bias is null ? v : v + FromBf16(bias[r]));
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
    }

    // bf16 -> fp32 (exact).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float FromBf16(ushort v) => BitConverter.UInt32BitsToSingle((uint)v << 16);

    // fp32 -> bf16, round to nearest even (as torch's conversion does); NaN stays NaN.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ushort ToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f))
        {
            return 0x7FC0;
        }

        u += 0x7FFFu + ((u >> 16) & 1);
        return (ushort)(u >> 16);
    }
}

/// <summary>A product split by output rows: <see cref="Run"/> computes rows [from, to).</summary>
internal interface IRowJob
{
    void Run(int from, int to);
}

/// <summary>
/// Persistent helper threads for <see cref="Bf16Gemv"/> and <see cref="Bf16Gemm"/>: the caller takes one share of the rows, each worker another.
/// Workers spin for a short while after each job (decode issues products back to back), then block.
/// </summary>
internal static class GemvWorkers
{
    private static readonly Worker[] Workers = Enumerable.Range(1, Math.Max(0, Environment.ProcessorCount - 1)).Select(i => new Worker(i)).ToArray();
    private static readonly Lock Gate = new();

    // minRowsPerPart: below this many rows per core a product runs on the caller alone (64 for the products' output
    // rows; fewer for jobs whose rows are larger, such as attention heads).
    public static void Run(int rows, IRowJob job, int align = 1, int minRowsPerPart = 64)
    {
        int parts = Math.Min(Workers.Length + 1, Math.Max(1, rows / minRowsPerPart));
        if (parts == 1)
        {
            job.Run(0, rows);
            return;
        }

        lock (Gate)
        {
            for (int p = 1; p < parts; p++)
            {
                Workers[p - 1].Start(job, Split(rows, p, parts, align), Split(rows, p + 1, parts, align));
            }

            job.Run(0, Split(rows, 1, parts, align));
            for (int p = 1; p < parts; p++)
            {
                Workers[p - 1].Wait();
            }
        }
    }

    // Boundary p of `parts` equal shares of `rows`, a multiple of `align` except at the end.
    private static int Split(int rows, int p, int parts, int align) => p == parts ? rows : rows * p / parts / align * align;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Workers live as long as the process.")]
    private sealed class Worker
    {
        private const int SpinCount = 20_000;
        private readonly ManualResetEventSlim _go = new(false, 1000);
        private IRowJob? _job;
        private int _from;
        private int _to;
        private volatile bool _done = true;

        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"judgehost-gemv-{index}" };
            thread.Start();
        }

        public void Start(IRowJob job, int from, int to)
        {
            _job = job;
            _from = from;
            _to = to;
            _done = false;
            _go.Set();
        }

        public void Wait()
        {
            var spinner = default(SpinWait);
            while (!_done)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }

        private void Loop()
        {
            while (true)
            {
                // Spin a little for the next job before blocking: decode issues products back to back.
                for (int i = 0; i < SpinCount && !_go.IsSet; i++)
                {
                    Thread.SpinWait(20);
                }

                _go.Wait();
                _go.Reset();
                _job!.Run(_from, _to);
                _done = true;
            }
        }
    }
}

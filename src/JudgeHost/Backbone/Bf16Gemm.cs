using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// y = x Wᵀ (+ b) for a few bfloat16 rows on the CPU — batched decode, one row per stream: fp32 sums, one
/// round-to-nearest-even to bf16 at the end. libtorch's bf16 GEMM (oneDNN) streams the weights at about a third of
/// memory bandwidth for 2–16 rows; here four weight rows at a time are multiplied into four activation rows held in
/// sixteen AVX-512 accumulators, the next four weight rows prefetched meanwhile, so the weights are read once per
/// product. Two kernels: on CPUs with AVX512-BF16, VDPBF16PS (two bf16 products into each fp32 lane, as oneDNN does)
/// from <see cref="Native.ExecutableCode"/>, ~200 G multiply-adds/s on two cores at 16 rows; elsewhere with AVX-512
/// the managed fp32 kernel below (bf16 widened by a 16-bit shift, fused multiply-add; ~140 G/s). Rows are split over
/// the cores by <see cref="GemvWorkers"/>.
/// </summary>
public static class Bf16Gemm
{
    /// <summary>
    /// The most activation rows this kernel takes: 16 streams of batched decode. Beyond that the product is bound by
    /// arithmetic, where oneDNN's blocked GEMM catches up.
    /// </summary>
    public const int MaxRows = 16;

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
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias) => ManagedLinear.Run(x, [(weight, Bf16Gemv.RequireBias(bias, weight))], single: false)[0];

    /// <summary>
    /// The activations of <paramref name="m"/> rows of <paramref name="k"/> bf16 values as the kernel reads them: as
    /// they are for the AVX512-BF16 kernel; widened into a per-thread scratch buffer (valid until this thread's next
    /// product) for the fp32 one.
    /// </summary>
    internal static unsafe void* Activations(ushort* x, int m, int k)
    {
        if (UseDotInstructions)
        {
            return x;
        }

        float* xp = ScratchBuffer.Floats(m * k);
        Split((uint*)x, xp, m * k);
        return xp;
    }

    /// <summary>The product's rows as a job: y (m × n) = activations (from <see cref="Activations"/>) Wᵀ + bias.</summary>
    internal static unsafe IRowJob Job(void* activations, ushort* w, ushort* y, ushort* bias, int m, int n, int k) =>
        UseDotInstructions
            ? new DotJob(w, (ushort*)activations, y, bias, m, n, k)
            : new FmaJob((uint*)w, (float*)activations, y, bias, m, n, k);

    /// <summary>
    /// Whether products run on the AVX512-BF16 kernel (<see cref="Native.ExecutableCode"/>): bf16 pairs multiplied
    /// straight into fp32 lanes by VDPBF16PS, as oneDNN does, at ~1.8x the multiply-adds per cycle of the fp32 kernel
    /// below, whose arithmetic it otherwise shares (fp32 sums, one rounding). On by default where the CPU has the
    /// instruction; tests switch it off to check the fp32 kernel on the same machine.
    /// </summary>
    internal static bool UseDotInstructions { get; set; } = Native.ExecutableCode.Available;

    // Output columns [from, to) through the AVX512-BF16 kernel, which reads the bf16 activations as they are.
    private sealed unsafe class DotJob(ushort* w, ushort* x, ushort* y, ushort* bias, int m, int n, int k) : IRowJob
    {
        public void Run(int from, int to) => Native.ExecutableCode.Gemm(w, x, y, bias, m, n, k, from, to);
    }

    /// <summary>
    /// Widens <paramref name="count"/> (a multiple of 32) bf16 values to the activation layout of <see cref="Dots{T}"/>:
    /// each block of 32 as its 16 even values, then its 16 odd ones — the order in which a 64-byte load of 32 bf16
    /// weights splits into two fp32 vectors (low halves shifted up; high halves masked).
    /// </summary>
    internal static unsafe void Split(uint* source, float* destination, int count)
    {
        for (int i = 0; i < count; i += 32)
        {
            var pairs = Vector512.Load(source + (i / 2));
            Vector512.Store(Avx512F.ShiftLeftLogical(pairs, 16).AsSingle(), destination + i);
            Vector512.Store((pairs & Vector512.Create(0xFFFF0000u)).AsSingle(), destination + i + 16);
        }
    }

    /// <summary>Output columns [from, to) of y (m rows, n columns) = x (m × k, fp32, blocks split even/odd) Wᵀ (n × k, bf16) + b.</summary>
    private sealed unsafe class FmaJob(uint* w, float* x, ushort* y, ushort* bias, int m, int n, int k) : IRowJob
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
                // The first tile of each group of four weight rows also prefetches the next group's rows: each row is
                // only k / 32 cache lines, too short a stream for the hardware prefetcher (8 rows ran at half the
                // memory bandwidth without this).
                uint* next = r + 4 < to ? w0 + (4L * half) : null;
                int row = 0;
                for (; row + 4 <= m; row += 4)
                {
                    Tile<Four>(w0, w1, w2, w3, x + ((long)row * k), k, y + ((long)row * n) + r, n, bias is null ? null : bias + r, count, next);
                    next = null;
                }

                if (row + 2 <= m)
                {
                    Tile<Two>(w0, w1, w2, w3, x + ((long)row * k), k, y + ((long)row * n) + r, n, bias is null ? null : bias + r, count, next);
                    row += 2;
                    next = null;
                }

                if (row < m)
                {
                    Tile<One>(w0, w1, w2, w3, x + ((long)row * k), k, y + ((long)row * n) + r, n, bias is null ? null : bias + r, count, next);
                }
            }
        }
    }

    internal interface ITile
    {
        static abstract int Rows { get; }
    }

    internal struct One : ITile
    {
        public static int Rows => 1;
    }

    internal struct Two : ITile
    {
        public static int Rows => 2;
    }

    internal struct Four : ITile
    {
        public static int Rows => 4;
    }

    // Four weight rows times T.Rows activation rows (x, stride k): 4 x T.Rows dot products of length k, written to
    // y[i * n + j] for weight row j < count. T.Rows is a constant in each instantiation, so the unused accumulators
    // and their branches compile away. The two halves of a block are written out (the JIT unrolls no loop: a loop over
    // them, with the widening chosen by a branch, ran at a fifth of the FMA rate), and the sixteen sums are reduced
    // together (one Vector512.Sum and a scalar rounding per output cost as much as the whole loop at k = 896).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile<T>(uint* w0, uint* w1, uint* w2, uint* w3, float* x, int k, ushort* y, int n, ushort* bias, int count, uint* next)
        where T : struct, ITile =>
        Store<T>(Dots<T>(w0, w1, w2, w3, x, k, next), y, n, bias, count);

    /// <summary>
    /// The 4 x T.Rows dot products of a tile in fp32: lane 4 * i + j = activation row i (x, stride k, each 32-column
    /// block split into its 16 even then 16 odd columns) times bf16 row j (w0..w3, k columns). <paramref name="next"/>,
    /// when not null, is prefetched as four rows of the same length.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe Vector512<float> Dots<T>(uint* w0, uint* w1, uint* w2, uint* w3, float* x, int k, uint* next)
        where T : struct, ITile
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
        var high = Vector512.Create(0xFFFF0000u);
        for (int i = 0; i < k; i += 32)
        {
            uint p = (uint)i / 2;
            var p0 = Vector512.Load(w0 + p);
            var p1 = Vector512.Load(w1 + p);
            var p2 = Vector512.Load(w2 + p);
            var p3 = Vector512.Load(w3 + p);
            if (next != null)
            {
                uint half = (uint)k / 2;
                Sse.Prefetch0(next + p);
                Sse.Prefetch0(next + half + p);
                Sse.Prefetch0(next + (2 * half) + p);
                Sse.Prefetch0(next + (3 * half) + p);
            }
            Step<T>(Avx512F.ShiftLeftLogical(p0, 16).AsSingle(), Avx512F.ShiftLeftLogical(p1, 16).AsSingle(), Avx512F.ShiftLeftLogical(p2, 16).AsSingle(), Avx512F.ShiftLeftLogical(p3, 16).AsSingle(), x + i, k,
                ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, ref c0, ref c1, ref c2, ref c3, ref d0, ref d1, ref d2, ref d3);
            Step<T>((p0 & high).AsSingle(), (p1 & high).AsSingle(), (p2 & high).AsSingle(), (p3 & high).AsSingle(), x + i + 16, k,
                ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, ref c0, ref c1, ref c2, ref c3, ref d0, ref d1, ref d2, ref d3);
        }

        return Reduce16(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3);
    }

    // Lane 4 * i + j of the result = the sum of the lanes of v[4 * j + i]: sixteen horizontal sums in 15 shuffle-add pairs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reduce16(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7,
        Vector512<float> v8, Vector512<float> v9, Vector512<float> v10, Vector512<float> v11, Vector512<float> v12, Vector512<float> v13, Vector512<float> v14, Vector512<float> v15)
    {
        var q0 = Blocks(Blocks(v0, v1, 0x44, 0xEE), Blocks(v2, v3, 0x44, 0xEE), 0x88, 0xDD);
        var q1 = Blocks(Blocks(v4, v5, 0x44, 0xEE), Blocks(v6, v7, 0x44, 0xEE), 0x88, 0xDD);
        var q2 = Blocks(Blocks(v8, v9, 0x44, 0xEE), Blocks(v10, v11, 0x44, 0xEE), 0x88, 0xDD);
        var q3 = Blocks(Blocks(v12, v13, 0x44, 0xEE), Blocks(v14, v15, 0x44, 0xEE), 0x88, 0xDD);
        return Lanes(Lanes(q0, q1, 0x44, 0xEE), Lanes(q2, q3, 0x44, 0xEE), 0x88, 0xDD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Blocks(Vector512<float> p, Vector512<float> q, [ConstantExpected] byte a, [ConstantExpected] byte b) => Avx512F.Shuffle4x128(p, q, a) + Avx512F.Shuffle4x128(p, q, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lanes(Vector512<float> p, Vector512<float> q, [ConstantExpected] byte a, [ConstantExpected] byte b) => Avx512F.Shuffle(p, q, a) + Avx512F.Shuffle(p, q, b);

    // s: lane 4 * i + j = activation row i, output column j of the tile. Adds the bias, rounds to bf16 (nearest even,
    // as torch's conversion; NaN stays NaN) and writes T.Rows rows of `count` columns.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store<T>(Vector512<float> s, ushort* y, int n, ushort* bias, int count)
        where T : struct, ITile
    {
        if (bias is not null)
        {
            var b = Vector128<float>.Zero;
            for (int j = 0; j < count; j++)
            {
                b = b.WithElement(j, Bf16Gemv.FromBf16(bias[j]));
            }

            var b2 = Vector256.Create(b, b);
            s += Vector512.Create(b2, b2);
        }

        var packed = Avx512F.ConvertToVector256UInt16(Bf16Bits(s)).AsUInt64();   // row i's four columns in 64-bit lane i
        for (int i = 0; i < T.Rows; i++)
        {
            ushort* yi = y + ((long)i * n);
            ulong v = packed.GetElement(i);
            if (count == 4)
            {
                *(ulong*)yi = v;
                continue;
            }

            for (int j = 0; j < count; j++)
            {
                yi[j] = (ushort)(v >> (16 * j));
            }
        }
    }

    /// <summary>fp32 → the bf16 bit pattern in each 32-bit lane: round to nearest even, NaN kept NaN (as torch's conversion).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> Bf16Bits(Vector512<float> f)
    {
        var u = f.AsUInt32();
        var rounded = (u + Vector512.Create(0x7FFFu) + ((u >> 16) & Vector512<uint>.One)) >> 16;
        return Vector512.ConditionalSelect(Vector512.Equals(f, f).AsUInt32(), rounded, Vector512.Create(0x7FC0u));
    }

    /// <summary>Sixteen bf16 values widened to fp32 (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe Vector512<float> Load16(ushort* p) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(p)), 16).AsSingle();

    /// <summary>fp32 rounded to the nearest bf16 value, kept in fp32 (the value a bf16 tensor op would store).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> RoundToBf16(Vector512<float> v) => (Bf16Bits(v) << 16).AsSingle();

    /// <summary>Sixteen fp32 values rounded to bf16 and stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Store16(ushort* p, Vector512<float> v) => Avx512F.ConvertToVector256UInt16(Bf16Bits(v)).Store(p);

    // One 16-column half of a 32-column block: the four widened weight vectors times T.Rows activation rows.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Step<T>(Vector512<float> u0, Vector512<float> u1, Vector512<float> u2, Vector512<float> u3, float* xi, int k,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3,
        ref Vector512<float> b0, ref Vector512<float> b1, ref Vector512<float> b2, ref Vector512<float> b3,
        ref Vector512<float> c0, ref Vector512<float> c1, ref Vector512<float> c2, ref Vector512<float> c3,
        ref Vector512<float> d0, ref Vector512<float> d1, ref Vector512<float> d2, ref Vector512<float> d3) where T : struct, ITile
    {
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

/// <summary>
/// linear(x, weight, bias): one bf16 row through <see cref="Bf16Gemv"/>, 2..<see cref="Bf16Gemm.MaxRows"/> rows
/// through <see cref="Bf16Gemm"/>, anything else — and anything autograd must record — through libtorch. Several
/// projections of one input (q/k/v, gate/up) can run as one product: one hand-off to the worker threads instead of
/// one per weight, which a decode step otherwise pays ~170 times.
/// </summary>
public static class ManagedLinear
{
    /// <summary>Whether a bf16 CPU forward pass of <paramref name="rows"/> rows runs its products on the managed kernels.</summary>
    public static bool Covers(int rows) => rows == 1 ? Bf16Gemv.Supported : rows <= Bf16Gemm.MaxRows && Bf16Gemm.Supported;

    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias) => LinearMany(x, [(weight, bias)])[0];

    /// <summary><c>linear(x, W_i, b_i)</c> for each projection, in one pass over the workers where the managed kernels apply.</summary>
    public static Tensor[] LinearMany(Tensor x, params ReadOnlySpan<(Tensor Weight, Tensor? Bias)> projections)
    {
        if (!x.is_contiguous())
        {
            // libtorch's CPU bf16 GEMM takes a naive kernel for a strided input (the LM head's [B, 1, D] cut from a
            // batched prefill's [B, S, D] ran ~100x slower), and the managed kernels need the rows side by side.
            x = x.contiguous();
        }

        bool single = true, several = true;
        foreach (var (weight, bias) in projections)
        {
            // The managed kernels record no gradient.
            bool managed = !x.requires_grad && !weight.requires_grad && !(bias?.requires_grad ?? false) && Bf16Gemv.BiasFits(bias, weight);
            single &= managed && Bf16Gemv.Applies(x, weight);
            several &= managed && Bf16Gemm.Applies(x, weight);
        }

        if (single || several)
        {
            return Run(x, projections, single);
        }

        var ys = new Tensor[projections.Length];
        for (int i = 0; i < ys.Length; i++)
        {
            ys[i] = nn.functional.linear(x, projections[i].Weight, projections[i].Bias);
        }

        return ys;
    }

    // The products of x (contiguous bf16) with each weight on the single-row or the few-row kernel, as one job.
    internal static unsafe Tensor[] Run(Tensor x, ReadOnlySpan<(Tensor Weight, Tensor? Bias)> projections, bool single)
    {
        int k = (int)x.shape[^1];
        int m = (int)(x.NumberOfElements / k);
        var ys = new Tensor[projections.Length];
        Span<RawProjection> raw = stackalloc RawProjection[projections.Length];
        for (int i = 0; i < ys.Length; i++)
        {
            var (weight, bias) = projections[i];
            ys[i] = empty([.. x.shape[..^1], weight.shape[0]], ScalarType.BFloat16);
            raw[i] = RawProjection.Of(weight, bias, (ushort*)TensorData.Pointer(ys[i]));
        }

        Run((ushort*)TensorData.Pointer(x), m, k, raw, single);
        GC.KeepAlive(x);
        foreach (var (weight, bias) in projections)
        {
            GC.KeepAlive(weight);
            GC.KeepAlive(bias);
        }

        return ys;
    }

    /// <summary>
    /// y_i (m × n_i bf16) = x (m × k bf16) W_iᵀ + b_i for each projection, as one job over the workers: the single-row
    /// kernel for m = 1 (<paramref name="single"/>), the few-row one otherwise. The caller keeps every operand alive.
    /// </summary>
    internal static unsafe void Run(ushort* x, int m, int k, ReadOnlySpan<RawProjection> projections, bool single)
    {
        void* activations = single ? Bf16Gemv.Activations(x, k) : Bf16Gemm.Activations(x, m, k);
        var jobs = new IRowJob[projections.Length];
        var starts = new int[projections.Length + 1];
        for (int i = 0; i < jobs.Length; i++)
        {
            var p = projections[i];
            jobs[i] = single ? new Bf16Gemv.Job(p.Weight, (float*)activations, p.Output, p.Bias, k) : Bf16Gemm.Job(activations, p.Weight, p.Output, p.Bias, m, p.Rows, k);
            starts[i + 1] = starts[i] + p.Rows;
        }

        GemvWorkers.Run(starts[^1], jobs.Length == 1 ? jobs[0] : new Segments(jobs, starts), align: single ? 1 : 4);
    }

    // Rows [from, to) of several products laid end to end: product i owns rows [starts[i], starts[i + 1]).
    private sealed class Segments(IRowJob[] jobs, int[] starts) : IRowJob
    {
        public void Run(int from, int to)
        {
            for (int i = 0; i < jobs.Length; i++)
            {
                int lo = Math.Max(from, starts[i]), hi = Math.Min(to, starts[i + 1]);
                if (lo < hi)
                {
                    jobs[i].Run(lo - starts[i], hi - starts[i]);
                }
            }
        }
    }
}

/// <summary>One product's operands by address: <see cref="Rows"/> × k bf16 weights, an optional bf16 bias, the bf16 output.</summary>
internal readonly unsafe struct RawProjection(ushort* weight, ushort* bias, ushort* output, int rows)
{
    public ushort* Weight { get; } = weight;

    public ushort* Bias { get; } = bias;

    public ushort* Output { get; } = output;

    public int Rows { get; } = rows;

    public static RawProjection Of(Tensor weight, Tensor? bias, ushort* output) =>
        new((ushort*)TensorData.Pointer(weight), bias is null ? null : (ushort*)TensorData.Pointer(bias), output, (int)weight.shape[0]);
}

/// <summary>Raw addresses of tensor data for the managed kernels.</summary>
internal static partial class TensorData
{
    // The address of a tensor's first element, for strided views too (the cache's keys are a narrowed view, and
    // Tensor.bytes takes contiguous tensors only): TorchSharp's own native entry point, which returns data_ptr().
    public static nint Pointer(Tensor t) => THSTensor_data(t.Handle);

    [System.Runtime.InteropServices.LibraryImport("LibTorchSharp")]
    private static partial nint THSTensor_data(nint handle);
}

/// <summary>
/// Native scratch memory reused call to call (one instance per thread and purpose): 64-byte aligned, so no 512-bit
/// load splits a cache line. What <see cref="Get"/> returns is valid until the same instance is asked again.
/// </summary>
internal sealed unsafe class ScratchBuffer
{
    [ThreadStatic]
    private static ScratchBuffer? t_activations;

    private void* _pointer;
    private long _bytes;

    /// <summary>This thread's buffer for a product's widened activations.</summary>
    public static float* Floats(int floats) => (float*)(t_activations ??= new ScratchBuffer()).Get((long)floats * sizeof(float));

    public void* Get(long bytes)
    {
        if (_bytes < bytes)
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(_pointer);
            _pointer = System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)bytes, 64);
            _bytes = bytes;
        }

        return _pointer;
    }

    ~ScratchBuffer() => System.Runtime.InteropServices.NativeMemory.AlignedFree(_pointer);
}

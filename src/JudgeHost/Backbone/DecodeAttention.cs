using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// Scaled dot-product attention for bf16 decode steps on the CPU, in managed code: a few query rows per KV head (the
/// query heads of a group, one new token each) against that head's cached keys and values. libtorch's CPU kernel
/// spends ~25 µs per batch row and layer on these shapes (~9 ms of a 16-stream Qwen2-0.5B step, single-threaded);
/// this one is ~10x faster. Arithmetic as libtorch's flash-attention CPU kernel: q·k accumulated in fp32 and scaled,
/// masked keys at -inf, softmax in fp32 with the probabilities rounded to bf16 before they weight the values (the
/// value product takes bf16 operands), fp32 accumulation, the division by the fp32 sum at the end, one rounding to bf16.
/// (Head) pairs are split over the cores by <see cref="GemvWorkers"/>.
/// </summary>
public static class DecodeAttention
{
    /// <summary>The most query rows per KV head (query heads per group x new tokens) this kernel takes.</summary>
    public const int MaxQueryRows = 16;

    public static bool Supported => Bf16Gemm.Supported;

    /// <summary>
    /// Whether q <c>[B, Hkv, R, d]</c> against keys and values <c>[B, Hkv, L, d]</c> can take this path: bf16 on the
    /// CPU, R ≤ <see cref="MaxQueryRows"/>, d a multiple of 32, the head dimension contiguous in every operand.
    /// </summary>
    public static bool Applies(Tensor q, Tensor keys, Tensor values) =>
        Supported && q.dtype == ScalarType.BFloat16 && keys.dtype == ScalarType.BFloat16 && values.dtype == ScalarType.BFloat16
        && q.device_type == DeviceType.CPU && keys.device_type == DeviceType.CPU && values.device_type == DeviceType.CPU
        && q.dim() == 4 && keys.dim() == 4 && values.dim() == 4 && !q.requires_grad
        && q.shape[2] <= MaxQueryRows && q.shape[3] % 32 == 0 && q.shape[3] <= 256
        && keys.shape[0] == q.shape[0] && keys.shape[1] == q.shape[1] && keys.shape[3] == q.shape[3]
        && values.shape.SequenceEqual(keys.shape)
        && q.stride(3) == 1 && keys.stride(3) == 1 && values.stride(3) == 1;

    /// <summary>
    /// softmax(q kᵀ / √d + mask) v, as <c>scaled_dot_product_attention</c>; returns bf16 <c>[B, Hkv, R, d]</c>.
    /// <paramref name="mask"/> is bool <c>[B, 1, S, L]</c> (true = attend) for S new tokens, where q's R = G·S rows are
    /// the G query heads of the KV head, each with its S tokens (q <c>[B, H, S, d]</c> reshaped to
    /// <c>[B, Hkv, G·S, d]</c>), so row r uses mask row r mod S. A row whose keys are all masked comes out NaN.
    /// </summary>
    public static unsafe Tensor Run(Tensor q, Tensor keys, Tensor values, Tensor mask)
    {
        long b = q.shape[0], heads = q.shape[1], rows = q.shape[2], d = q.shape[3], length = keys.shape[2];
        if (mask.dtype != ScalarType.Bool || mask.dim() != 4 || mask.shape[0] != b || mask.shape[1] != 1 || rows % mask.shape[2] != 0 || mask.shape[3] != length)
        {
            throw new ArgumentException($"mask [{string.Join(", ", mask.shape)}] {mask.dtype} does not fit q [{string.Join(", ", q.shape)}] and {length} keys.", nameof(mask));
        }

        var m = mask.is_contiguous() ? mask : mask.contiguous();
        var qc = q.is_contiguous() ? q : q.contiguous();
        var output = empty([b, heads, rows, d], ScalarType.BFloat16);
        Run(
            (ushort*)DataPointer(qc), (ushort*)DataPointer(keys), (ushort*)DataPointer(values), (bool*)DataPointer(m), (ushort*)DataPointer(output),
            (int)b, (int)heads, (int)rows, (int)mask.shape[2], (int)d, (int)length,
            keys.stride(0), keys.stride(1), keys.stride(2), values.stride(0), values.stride(1), values.stride(2));
        if (!ReferenceEquals(m, mask))
        {
            m.Dispose();
        }

        if (!ReferenceEquals(qc, q))
        {
            qc.Dispose();
        }

        GC.KeepAlive(keys);
        GC.KeepAlive(values);
        return output;
    }

    [ThreadStatic]
    private static float[]? t_work;

    private static nint DataPointer(Tensor t) => TensorData.Pointer(t);

    /// <summary>
    /// <see cref="Run(Tensor, Tensor, Tensor, Tensor)"/> on raw operands: q and y contiguous <c>[B, Hkv, R, d]</c>,
    /// keys and values <c>[B, Hkv, L, d]</c> with the given element strides, mask bool <c>[B, 1, S, L]</c> contiguous.
    /// </summary>
    internal static unsafe void Run(ushort* q, ushort* keys, ushort* values, bool* mask, ushort* y, int b, int heads, int rows, int tokens, int d, int length,
        long kb, long kh, long kl, long vb, long vh, long vl)
    {
        var job = new Job(q, keys, values, mask, y, heads, rows, tokens, d, length, kb, kh, kl, vb, vh, vl, (float)(1.0 / Math.Sqrt(d)));
        GemvWorkers.Run(b * heads, job, minRowsPerPart: 4);
    }

    private sealed unsafe class Job(
        ushort* q, ushort* k, ushort* v, bool* mask, ushort* y, int heads, int rows, int tokens, int d, int length,
        long kb, long kh, long kl, long vb, long vh, long vl, float scale) : IRowJob
    {
        public void Run(int from, int to)
        {
            int padded = (length + 15) & ~15;
            int need = (rows * padded) + (rows * d);
            var buffer = t_work is { } w && w.Length >= need ? w : t_work = new float[need + 1024];
            fixed (float* work = buffer)
            {
                float* s = work;                       // [rows, padded] scores, then probabilities
                float* qf = s + (rows * padded);       // [rows, d] queries in fp32
                for (int pair = from; pair < to; pair++)
                {
                    int bi = pair / heads, hi = pair % heads;
                    Head(q + ((long)pair * rows * d), k + (bi * kb) + (hi * kh), v + (bi * vb) + (hi * vh), mask + ((long)bi * tokens * length),
                        y + ((long)pair * rows * d), s, qf, padded);
                }
            }
        }

        private void Head(ushort* qh, ushort* kh0, ushort* vh0, bool* maskB, ushort* yh, float* s, float* qf, int padded)
        {
            // Scores q kᵀ: Bf16Gemm's tile with the keys as the bf16 rows (four at a time) and the queries as the
            // activation rows, kept in fp32.
            Bf16Gemm.Split((uint*)qh, qf, rows * d);
            for (int j = 0; j < length; j += 4)
            {
                int count = Math.Min(4, length - j);
                uint* k0 = (uint*)(kh0 + (j * kl));
                uint* k1 = count > 1 ? (uint*)(kh0 + ((j + 1) * kl)) : k0;   // keys past the end repeat the first; their scores are overwritten
                uint* k2 = count > 2 ? (uint*)(kh0 + ((j + 2) * kl)) : k0;
                uint* k3 = count > 3 ? (uint*)(kh0 + ((j + 3) * kl)) : k0;
                int r = 0;
                for (; r + 4 <= rows; r += 4)
                {
                    Scores(Bf16Gemm.Dots<Bf16Gemm.Four>(k0, k1, k2, k3, qf + (r * d), d, null), s + (r * padded) + j, padded, 4, scale);
                }

                if (r + 2 <= rows)
                {
                    Scores(Bf16Gemm.Dots<Bf16Gemm.Two>(k0, k1, k2, k3, qf + (r * d), d, null), s + (r * padded) + j, padded, 2, scale);
                    r += 2;
                }

                if (r < rows)
                {
                    Scores(Bf16Gemm.Dots<Bf16Gemm.One>(k0, k1, k2, k3, qf + (r * d), d, null), s + (r * padded) + j, padded, 1, scale);
                }
            }

            // Softmax numerators: masked keys and the padding up to a multiple of 16 at -inf, exp(s - max) rounded to
            // bf16 (the value product's operand), the sum of the unrounded ones.
            float* sums = stackalloc float[MaxQueryRows];
            for (int r = 0; r < rows; r++)
            {
                float* sr = s + (r * padded);
                bool* mr = maskB + ((r % tokens) * length);
                for (int j = 0; j < length; j++)
                {
                    sr[j] = mr[j] ? sr[j] : float.NegativeInfinity;
                }

                for (int j = length; j < padded; j++)
                {
                    sr[j] = float.NegativeInfinity;
                }

                var max = Vector512.Create(float.NegativeInfinity);
                for (int j = 0; j < padded; j += 16)
                {
                    max = Vector512.Max(max, Vector512.Load(sr + j));
                }

                var mv = Vector512.Create(MaxOf(max));
                var total = Vector512<float>.Zero;
                for (int j = 0; j < padded; j += 16)
                {
                    var e = Vector512.Exp(Vector512.Load(sr + j) - mv);
                    total += e;
                    Vector512.Store(Bf16Gemm.RoundToBf16(e), sr + j);
                }

                sums[r] = Vector512.Sum(total);
            }

            // out_r = Σ_j p_rj v_j / sum_r: four rows by 32 columns of the output in eight accumulators, one pass over
            // the values per group.
            for (int r = 0; r < rows; r += 4)
            {
                int group = Math.Min(4, rows - r);
                float* p0 = s + (r * padded);
                float* p1 = group > 1 ? p0 + padded : p0;   // rows past the end repeat the first; they are not written
                float* p2 = group > 2 ? p0 + (2 * padded) : p0;
                float* p3 = group > 3 ? p0 + (3 * padded) : p0;
                for (int i = 0; i < d; i += 32)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
                    for (int j = 0; j < length; j++)
                    {
                        ushort* vj = vh0 + (j * vl) + i;
                        var lo = Bf16Gemm.Load16(vj);
                        var hi = Bf16Gemm.Load16(vj + 16);
                        var w0 = Vector512.Create(p0[j]);
                        var w1 = Vector512.Create(p1[j]);
                        var w2 = Vector512.Create(p2[j]);
                        var w3 = Vector512.Create(p3[j]);
                        a0 = Avx512F.FusedMultiplyAdd(lo, w0, a0);
                        b0 = Avx512F.FusedMultiplyAdd(hi, w0, b0);
                        a1 = Avx512F.FusedMultiplyAdd(lo, w1, a1);
                        b1 = Avx512F.FusedMultiplyAdd(hi, w1, b1);
                        a2 = Avx512F.FusedMultiplyAdd(lo, w2, a2);
                        b2 = Avx512F.FusedMultiplyAdd(hi, w2, b2);
                        a3 = Avx512F.FusedMultiplyAdd(lo, w3, a3);
                        b3 = Avx512F.FusedMultiplyAdd(hi, w3, b3);
                    }

                    ushort* y0 = yh + (r * d) + i;
                    Output(y0, a0, b0, sums[r]);
                    if (group > 1)
                    {
                        Output(y0 + d, a1, b1, sums[r + 1]);
                    }

                    if (group > 2)
                    {
                        Output(y0 + (2 * d), a2, b2, sums[r + 2]);
                    }

                    if (group > 3)
                    {
                        Output(y0 + (3 * d), a3, b3, sums[r + 3]);
                    }
                }
            }
        }
    }

    // Dots' lanes 4 * i + j (query row i, key j), scaled, to rows i < count of dst (stride `padded`), four keys each.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Scores(Vector512<float> dots, float* dst, int padded, int count, float scale)
    {
        dots *= Vector512.Create(scale);
        dots.GetLower().GetLower().Store(dst);
        if (count > 1)
        {
            dots.GetLower().GetUpper().Store(dst + padded);
        }

        if (count > 2)
        {
            dots.GetUpper().GetLower().Store(dst + (2 * padded));
            dots.GetUpper().GetUpper().Store(dst + (3 * padded));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Output(ushort* y, Vector512<float> lo, Vector512<float> hi, float sum)
    {
        var inv = Vector512.Create(sum);
        Bf16Gemm.Store16(y, lo / inv);
        Bf16Gemm.Store16(y + 16, hi / inv);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxOf(Vector512<float> v)
    {
        var h = Vector256.Max(v.GetLower(), v.GetUpper());
        var q = Vector128.Max(h.GetLower(), h.GetUpper());
        return MathF.Max(MathF.Max(q[0], q[1]), MathF.Max(q[2], q[3]));
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// One decoder layer of a bf16 decode step (one new token for each of up to <see cref="Bf16Gemm.MaxRows"/> rows) run
/// on raw buffers: the same managed kernels as the module path (<see cref="DecodeOps"/>, <see cref="ManagedLinear"/>,
/// <see cref="DecodeAttention"/>), in the same order with the same roundings, so the results are bit for bit the
/// module path's, but without the ~30 libtorch tensors a layer otherwise creates and frees per step — dispatch,
/// allocation and scope bookkeeping that cost a single-stream step more than its norms, rotary and attention together.
/// Keys (after rotary) and values go straight into the cache's reserved slot. Only the layer's output is a tensor.
/// </summary>
internal static class DecodeLayer
{
    /// <summary>Off only in tests, to compare against the module path.</summary>
    internal static bool Enabled { get; set; } = true;

    public static bool Applies(DecoderLayer layer, Tensor hidden, Tensor cos, Tensor sin, Tensor mask, KvCache cache)
    {
        if (!Enabled || hidden.dim() != 3 || hidden.shape[1] != 1)
        {
            return false;
        }

        long b = hidden.shape[0];
        var attention = layer.SelfAttention;
        var (q, k, v, o) = attention.Projections;
        var (gate, up, down) = layer.Feedforward.Projections;
        var (heads, kvHeads, d, index) = attention.Shape;
        var (norm1, norm2) = layer.Norms;
        if (!ManagedLinear.Covers((int)b) || !DecodeOps.Applies(b, hidden, cos, sin, norm1.Weight, norm2.Weight)
            || !DecodeAttention.Supported || d % 32 != 0 || d > 256 || heads / kvHeads > DecodeAttention.MaxQueryRows
            || cos.dim() != 3 || cos.shape[0] != b || cos.shape[1] != 1 || cos.shape[2] != d || !sin.shape.SequenceEqual(cos.shape)
            || mask.dtype != ScalarType.Bool || !mask.is_contiguous() || mask.dim() != 4 || mask.shape[0] != b || mask.shape[1] != 1 || mask.shape[2] != 1
            || mask.shape[3] != cache.Length + 1)
        {
            return false;
        }

        var keys = cache.KeyBuffer(index);
        var values = cache.ValueBuffer(index);
        if (keys.dtype != ScalarType.BFloat16 || values.dtype != ScalarType.BFloat16 || keys.device_type != DeviceType.CPU
            || values.device_type != DeviceType.CPU || !keys.is_contiguous() || !values.is_contiguous())
        {
            return false;
        }

        foreach (var p in new[] { q, k, v, o, gate, up, down })
        {
            var w = p.Weight;
            if (p.Lora is not null || w.dtype != ScalarType.BFloat16 || w.device_type != DeviceType.CPU || !w.is_contiguous()
                || w.requires_grad || w.shape[1] % 32 != 0 || !Bf16Gemv.BiasFits(p.Bias, w))
            {
                return false;
            }
        }

        return true;
    }

    public static unsafe Tensor Forward(DecoderLayer layer, Tensor hidden, Tensor cos, Tensor sin, Tensor mask, KvCache cache)
    {
        var attention = layer.SelfAttention;
        var (qp, kp, vp, op) = attention.Projections;
        var (gp, up, dp) = layer.Feedforward.Projections;
        var (heads, kvHeads, d, index) = attention.Shape;
        var (norm1, norm2) = layer.Norms;
        int m = (int)hidden.shape[0];
        int dim = (int)hidden.shape[2];
        int qn = heads * d, kvn = kvHeads * d, inter = (int)gp.Weight.shape[0];
        bool single = m == 1;
        var output = empty(hidden.shape, ScalarType.BFloat16);

        // Per-row buffers, carved from one per-thread block (kept apart from the products' activation scratch).
        ushort* work = (ushort*)(t_workspace ??= new ScratchBuffer()).Get((long)m * ((4 * dim) + (3 * qn) + (2 * kvn) + (3 * inter)) * sizeof(ushort));
        ushort* normed = work;
        ushort* q = normed + (m * dim);
        ushort* k = q + (m * qn);
        ushort* v = k + (m * kvn);
        ushort* qr = v + (m * kvn);
        ushort* attn = qr + (m * qn);
        ushort* o = attn + (m * qn);
        ushort* h = o + (m * dim);
        ushort* normed2 = h + (m * dim);
        ushort* g = normed2 + (m * dim);
        ushort* u = g + (m * inter);
        ushort* act = u + (m * inter);
        ushort* x = (ushort*)TensorData.Pointer(hidden);
        ushort* y = (ushort*)TensorData.Pointer(output);
        ushort* cp = (ushort*)TensorData.Pointer(cos);
        ushort* sp = (ushort*)TensorData.Pointer(sin);
        var keys = cache.KeyBuffer(index);
        var values = cache.ValueBuffer(index);
        ushort* kc = (ushort*)TensorData.Pointer(keys);
        ushort* vc = (ushort*)TensorData.Pointer(values);
        long kb = keys.stride(0), kh = keys.stride(1), kl = keys.stride(2);
        int slot = cache.Length;

        // input_layernorm, then q/k/v as one product.
        DecodeOps.RmsNorm(x, (ushort*)TensorData.Pointer(norm1.Weight), normed, m, dim, (float)norm1.Eps);

        ManagedLinear.Run(normed, m, dim, [RawProjection.Of(qp.Weight, qp.Bias, q), RawProjection.Of(kp.Weight, kp.Bias, k), RawProjection.Of(vp.Weight, vp.Bias, v)], single);

        // Rotary: queries to [B, H, 1, d] (= [B, Hkv, G, d], the query heads of each KV head together); keys and
        // values straight into the cache's reserved slot.
        DecodeOps.Rope(q, m, 1, heads, d, cp, sp, qr, qn, d, 0);
        DecodeOps.Rope(k, m, 1, kvHeads, d, cp, sp, kc + (slot * kl), kb, kh, 0);
        for (int r = 0; r < m; r++)
        {
            for (int i = 0; i < kvHeads; i++)
            {
                new ReadOnlySpan<ushort>(v + (r * kvn) + (i * d), d).CopyTo(new Span<ushort>(vc + (r * kb) + (i * kh) + (slot * kl), d));
            }
        }

        DecodeAttention.Run(qr, kc, vc, (bool*)TensorData.Pointer(mask), attn, m, kvHeads, heads / kvHeads, 1, d, slot + 1,
            kb, kh, kl, values.stride(0), values.stride(1), values.stride(2));
        ManagedLinear.Run(attn, m, qn, [RawProjection.Of(op.Weight, op.Bias, o)], single);

        // Residual, post_attention_layernorm, the MLP, residual.
        DecodeOps.AddRmsNorm(x, o, h, (ushort*)TensorData.Pointer(norm2.Weight), normed2, m, dim, (float)norm2.Eps);

        ManagedLinear.Run(normed2, m, dim, [RawProjection.Of(gp.Weight, gp.Bias, g), RawProjection.Of(up.Weight, up.Bias, u)], single);
        DecodeOps.SiluMul(g, u, act, m * inter);
        ManagedLinear.Run(act, m, inter, [RawProjection.Of(dp.Weight, dp.Bias, o)], single);
        DecodeOps.Add(h, o, y, m * dim);

        GC.KeepAlive(hidden);
        GC.KeepAlive(cos);
        GC.KeepAlive(sin);
        GC.KeepAlive(mask);
        GC.KeepAlive(keys);
        GC.KeepAlive(values);
        return output;
    }

    // A thread's block of bf16 scratch for the layer's intermediate rows, reused step to step (apart from the
    // products' activation scratch, which the products overwrite while these rows are live).
    [ThreadStatic]
    private static ScratchBuffer? t_workspace;
}

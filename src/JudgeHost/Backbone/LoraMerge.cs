using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// Merging a LoRA update into a linear weight, as peft's <c>LoraLayer.merge</c> / <c>get_delta_weight</c> define it:
/// <c>W' = W + scaling · B·A</c> with <c>A [r, in]</c>, <c>B [out, r]</c>, <c>W [out, in]</c> (transposed when the
/// base layer stores <c>[in, out]</c>, <c>fan_in_fan_out</c>). The product and the sum are computed in float32 and
/// the result is cast once to the weight's dtype, so a bfloat16 model is merged without bfloat16 rounding of the
/// update. Pure tensor maths: strictness about which tensors exist is <see cref="LoraTensorIndex"/>'s job.
/// </summary>
public static class LoraMerge
{
    /// <summary>The update <c>scaling · B·A</c> in float32: <c>[out, in]</c> (or <c>[in, out]</c> with <paramref name="fanInFanOut"/>).</summary>
    public static Tensor Delta(Tensor loraA, Tensor loraB, double scaling, bool fanInFanOut = false)
    {
        ArgumentNullException.ThrowIfNull(loraA);
        ArgumentNullException.ThrowIfNull(loraB);
        if (loraA.dim() != 2 || loraB.dim() != 2 || loraA.shape[0] != loraB.shape[1])
        {
            throw new ArgumentException($"LoRA factors do not chain: lora_A is [{string.Join(", ", loraA.shape)}] (needs [r, in]), lora_B is [{string.Join(", ", loraB.shape)}] (needs [out, r]).");
        }

        using var scope = NewDisposeScope();
        var delta = loraB.to(ScalarType.Float32).matmul(loraA.to(ScalarType.Float32)) * scaling;   // [out, in]
        return (fanInFanOut ? delta.t().contiguous() : delta).MoveToOuterDisposeScope();
    }

    /// <summary>The merged weight <c>W + scaling · B·A</c> (float32 sum, then cast to <paramref name="weight"/>'s dtype); a new tensor.</summary>
    public static Tensor Merge(Tensor weight, Tensor loraA, Tensor loraB, double scaling, bool fanInFanOut = false)
    {
        ArgumentNullException.ThrowIfNull(weight);
        using var scope = NewDisposeScope();
        var delta = Delta(loraA, loraB, scaling, fanInFanOut);
        if (!delta.shape.SequenceEqual(weight.shape))
        {
            throw new ArgumentException($"The LoRA update is [{string.Join(", ", delta.shape)}] but the weight is [{string.Join(", ", weight.shape)}].");
        }

        return (weight.to(ScalarType.Float32) + delta.to(weight.device)).to(weight.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Merges into <paramref name="weight"/> in place (a loaded parameter), without recording gradients.</summary>
    public static void MergeInto(Tensor weight, Tensor loraA, Tensor loraB, double scaling, bool fanInFanOut = false)
    {
        using var noGrad = no_grad();
        using var merged = Merge(weight, loraA, loraB, scaling, fanInFanOut);
        weight.copy_(merged);
    }
}

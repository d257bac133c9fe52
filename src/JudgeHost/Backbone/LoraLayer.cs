using TorchSharp.Modules;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>The trainable low-rank update of one <see cref="Proj"/>: y += dropout(x) Aᵀ Bᵀ · alpha / r (PEFT's lora.Linear).</summary>
public sealed class LoraLayer : IDisposable
{
    public LoraLayer(Parameter a, Parameter b, double scaling, double dropout)
    {
        A = a;
        B = b;
        Scaling = scaling;
        Dropout = dropout;
    }

    /// <summary>lora_A.weight <c>[r, in]</c>.</summary>
    public Parameter A { get; }

    /// <summary>lora_B.weight <c>[out, r]</c>.</summary>
    public Parameter B { get; }

    public double Scaling { get; }

    public double Dropout { get; }

    /// <summary>True while training (dropout applies).</summary>
    public bool Training { get; set; }

    public Tensor Delta(Tensor x)
    {
        var input = Training && Dropout > 0 ? TorchSharp.torch.nn.functional.dropout(x, Dropout, training: true) : x;
        return TorchSharp.torch.nn.functional.linear(TorchSharp.torch.nn.functional.linear(input.to(A.dtype), A), B) * Scaling;
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}

using JudgeHost.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Molecule;

/// <summary>
/// Reads a module's tensors as float32 under one prefix, checking each shape, and collects every problem instead of
/// stopping at the first, so one error names all that is missing or misshapen. Owns what it read until
/// <see cref="Dispose"/>.
/// </summary>
internal sealed class CheckpointTensors(IWeightSource weights, Device device) : IDisposable
{
    private readonly List<Tensor> _owned = [];
    private readonly List<string> _problems = [];

    public IReadOnlyList<string> Problems => _problems;

    /// <summary>The tensor <paramref name="name"/> as float32 <c>[shape]</c>; an empty placeholder (and a problem) when absent or misshapen.</summary>
    public Tensor Read(string name, params long[] shape)
    {
        if (!weights.Contains(name))
        {
            _problems.Add($"missing {name}");
            return Placeholder();
        }

        long[] actual = weights.GetShape(name);
        if (!actual.SequenceEqual(shape))
        {
            _problems.Add($"{name} is [{string.Join(", ", actual)}], expected [{string.Join(", ", shape)}]");
            return Placeholder();
        }

        var t = weights.Load(name, ScalarType.Float32, device);
        _owned.Add(t);
        return t;
    }

    /// <summary>The shape of <paramref name="name"/>, or null (and a problem) when absent.</summary>
    public long[]? Shape(string name)
    {
        if (weights.Contains(name))
        {
            return weights.GetShape(name);
        }

        _problems.Add($"missing {name}");
        return null;
    }

    /// <summary>Throws <see cref="MissingWeightsException"/> listing the first problems when there are any.</summary>
    public void ThrowIfProblems(string what, string hint)
    {
        if (_problems.Count == 0)
        {
            return;
        }

        string list = string.Join("; ", _problems.Take(8)) + (_problems.Count > 8 ? $" and {_problems.Count - 8} more" : "");
        Dispose();
        throw new MissingWeightsException($"{what} cannot load: {list}. {hint}");
    }

    public void Dispose()
    {
        foreach (var t in _owned)
        {
            t.Dispose();
        }

        _owned.Clear();
    }

    private Tensor Placeholder()
    {
        var t = empty(0);
        _owned.Add(t);
        return t;
    }
}

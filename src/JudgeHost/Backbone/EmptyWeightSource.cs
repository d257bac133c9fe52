using JudgeHost.Abstractions;
using TorchSharp;

namespace JudgeHost.Backbone;

/// <summary>A weight source with no tensors (no model given); any load names the tensor that was wanted.</summary>
public sealed class EmptyWeightSource(string why) : IWeightSource
{
    public IReadOnlyList<string> Names => [];

    public bool Contains(string name) => false;

    public long[] GetShape(string name) => throw Missing(name);

    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null) => throw Missing(name);

    private MissingWeightsException Missing(string name) => new($"Tensor '{name}' was requested but {why}.");
}

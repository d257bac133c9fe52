using TorchSharp;

namespace JudgeHost.Abstractions;

/// <summary>
/// Read access to the checkpoint tensors a plugin owns, with the plugin's prefix removed
/// (<c>visual.blocks.0.attn.qkv.weight</c> is <c>blocks.0.attn.qkv.weight</c> here). The host reads the files;
/// a plugin never parses safetensors itself.
/// </summary>
public interface IWeightSource
{
    /// <summary>All tensor names available, prefix removed, in checkpoint order.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>Whether a tensor of that name exists.</summary>
    /// <param name="name">Tensor name without the plugin prefix.</param>
    bool Contains(string name);

    /// <summary>Shape of a tensor without reading its data.</summary>
    /// <param name="name">Tensor name without the plugin prefix.</param>
    /// <exception cref="MissingWeightsException">No such tensor.</exception>
    long[] GetShape(string name);

    /// <summary>
    /// Reads a tensor into a new tensor of the requested type on the requested device. The caller owns it.
    /// </summary>
    /// <param name="name">Tensor name without the plugin prefix.</param>
    /// <param name="dtype">Type to convert to, or null to keep the stored type.</param>
    /// <param name="device">Device to place it on, or null for CPU.</param>
    /// <exception cref="MissingWeightsException">No such tensor.</exception>
    /// <exception cref="CorruptCheckpointException">The file cannot be read.</exception>
    torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null);
}

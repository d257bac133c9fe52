using System.Text.RegularExpressions;
using JudgeHost.Abstractions;
using TorchSharp;

namespace Modalities.Image;

/// <summary>
/// The Qwen2.5-Omni vision tower's weights seen as the Qwen2.5-VL tower's: Omni's blocks hold separate
/// <c>attn.q</c>, <c>attn.k</c>, <c>attn.v</c> linears (<c>Qwen2_5OmniVisionAttention</c>) where Qwen2.5-VL has one
/// fused <c>attn.qkv</c> whose output rows are q, then k, then v. Concatenating the three weights (and biases) along
/// the output dimension gives exactly that fused layer, so one tower serves both checkpoints. Other names pass through.
/// </summary>
public sealed partial class FusedQkvWeights : IWeightSource
{
    private readonly IWeightSource _inner;
    private readonly List<string> _names;

    private FusedQkvWeights(IWeightSource inner)
    {
        _inner = inner;
        var fused = inner.Names.Select(n => SplitName().Match(n)).Where(m => m.Success && m.Groups[2].Value == "q")
            .Select(m => $"{m.Groups[1].Value}qkv.{m.Groups[3].Value}").ToHashSet(StringComparer.Ordinal);
        _names = [.. inner.Names.Where(n => !SplitName().IsMatch(n)), .. fused.Where(Contains)];
    }

    /// <summary><paramref name="weights"/> itself when it has no split q/k/v tensors, else the fused view.</summary>
    public static IWeightSource Wrap(IWeightSource weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return weights.Names.Any(n => SplitName().IsMatch(n)) ? new FusedQkvWeights(weights) : weights;
    }

    public IReadOnlyList<string> Names => _names;

    public bool Contains(string name) =>
        Parts(name) is { } parts ? parts.All(_inner.Contains) : _inner.Contains(name);

    public long[] GetShape(string name)
    {
        if (Parts(name) is not { } parts)
        {
            return _inner.GetShape(name);
        }

        var shapes = parts.Select(_inner.GetShape).ToArray();
        if (shapes.Any(s => !s.Skip(1).SequenceEqual(shapes[0].Skip(1))))
        {
            throw new CorruptCheckpointException($"The vision attention tensors {string.Join(", ", parts)} have shapes {string.Join(", ", shapes.Select(s => $"[{string.Join(", ", s)}]"))}, which cannot be fused. Re-download the checkpoint.");
        }

        return [shapes.Sum(s => s[0]), .. shapes[0].Skip(1)];
    }

    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        if (Parts(name) is not { } parts)
        {
            return _inner.Load(name, dtype, device);
        }

        GetShape(name);
        using var scope = torch.NewDisposeScope();
        var tensors = parts.Select(p => _inner.Load(p, dtype, device)).ToArray();
        return torch.cat(tensors, 0).MoveToOuterDisposeScope();                    // [3 * out, ...]: q rows, k rows, v rows
    }

    // "blocks.3.attn.qkv.weight" -> the checkpoint's "blocks.3.attn.q.weight", ".k.", ".v." when it has them.
    private string[]? Parts(string name)
    {
        var m = FusedName().Match(name);
        if (!m.Success || _inner.Contains(name))
        {
            return null;
        }

        string head = m.Groups[1].Value, kind = m.Groups[2].Value;
        return [$"{head}q.{kind}", $"{head}k.{kind}", $"{head}v.{kind}"];
    }

    [GeneratedRegex(@"^(blocks\.\d+\.attn\.)(q|k|v)\.(weight|bias)$")]
    private static partial Regex SplitName();

    [GeneratedRegex(@"^(blocks\.\d+\.attn\.)qkv\.(weight|bias)$")]
    private static partial Regex FusedName();
}

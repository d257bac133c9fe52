using JudgeHost.Abstractions;
using TorchSharp;

namespace JudgeHost.Backbone;

/// <summary>
/// The floating-point dtype names the CLI accepts (<c>--dtype</c>) and <c>config.json</c>'s <c>torch_dtype</c> holds:
/// float32 (fp32), bfloat16 (bf16), float16 (fp16). One parser and one namer for every command and writer, each command
/// saying which of them it supports.
/// </summary>
public static class DTypeNames
{
    private static readonly (string Name, string Short, torch.ScalarType Type)[] Known =
    [
        ("float32", "fp32", torch.ScalarType.Float32),
        ("bfloat16", "bf16", torch.ScalarType.BFloat16),
        ("float16", "fp16", torch.ScalarType.Float16),
    ];

    /// <summary>Parses <paramref name="name"/> (full or short name) into one of <paramref name="supported"/>.</summary>
    /// <exception cref="JudgeHostException">The name is unknown or not supported here; the message lists what is.</exception>
    public static torch.ScalarType Parse(string? name, string what, params torch.ScalarType[] supported)
    {
        foreach (var (full, shortName, type) in Known)
        {
            if ((string.Equals(name, full, StringComparison.OrdinalIgnoreCase) || string.Equals(name, shortName, StringComparison.OrdinalIgnoreCase))
                && supported.Contains(type))
            {
                return type;
            }
        }

        throw new JudgeHostException($"{what} '{name}' is not supported; use {Join(supported)}.");
    }

    /// <summary>The <c>torch_dtype</c> name of <paramref name="type"/> ("float32", "bfloat16", "float16").</summary>
    public static string Name(torch.ScalarType type) =>
        Known.FirstOrDefault(k => k.Type == type).Name ?? throw new JudgeHostException($"dtype {type} has no checkpoint name; use {Join(Known.Select(k => k.Type).ToArray())}.");

    /// <summary>The type <c>config.json</c>'s <c>torch_dtype</c> names, or <paramref name="fallback"/> when absent or unknown.</summary>
    public static torch.ScalarType FromConfig(string? torchDType, torch.ScalarType fallback) =>
        Known.FirstOrDefault(k => k.Name == torchDType) is { Name: not null } k ? k.Type : fallback;

    /// <summary>"float32 or bfloat16", "float32, bfloat16 or float16".</summary>
    public static string Join(torch.ScalarType[] types)
    {
        var names = types.Select(Name).ToList();
        return names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}";
    }
}

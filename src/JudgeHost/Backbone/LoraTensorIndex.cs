namespace JudgeHost.Backbone;

/// <summary>The two factors of one LoRA-wrapped module: full tensor names of <c>lora_A</c> <c>[r, in]</c> and <c>lora_B</c> <c>[out, r]</c>.</summary>
/// <param name="Module">Module path below the scanned prefix, e.g. <c>model.layers.0.self_attn.q_proj</c>.</param>
/// <param name="A">Name of <c>lora_A</c>.</param>
/// <param name="B">Name of <c>lora_B</c>.</param>
public sealed record LoraPair(string Module, string A, string B);

/// <summary>
/// The LoRA tensors of a peft state dict below a prefix (<c>{prefix}{module}.lora_A.{adapter}.weight</c> and
/// <c>….lora_B.{adapter}.weight</c>), grouped by module, with strict bookkeeping: a loader <see cref="Take"/>s each
/// pair it merges, and <see cref="Unused"/> then names every LoRA tensor nothing used. Tensors that look like LoRA
/// but cannot be merged here (another adapter's, an unpaired factor, <c>lora_embedding_*</c>, DoRA's
/// <c>lora_magnitude_vector</c>, a <c>lora_B</c> bias) are <see cref="Problems"/>, never dropped silently.
/// </summary>
public sealed class LoraTensorIndex
{
    private readonly Dictionary<string, LoraPair> _modules;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    private LoraTensorIndex(Dictionary<string, LoraPair> modules, List<string> problems, HashSet<string> names)
    {
        _modules = modules;
        Problems = problems;
        TensorNames = names;
    }

    /// <summary>Module path → factor names.</summary>
    public IReadOnlyDictionary<string, LoraPair> Modules => _modules;

    /// <summary>LoRA-looking tensors that cannot be merged, each with the reason.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Every scanned tensor name that belongs to LoRA (pairs and problems).</summary>
    public IReadOnlySet<string> TensorNames { get; }

    /// <summary>Whether <paramref name="name"/> (a full tensor name) is a LoRA tensor: its path has a <c>lora_</c> component.</summary>
    public static bool IsLoraName(string name) =>
        name.StartsWith("lora_", StringComparison.Ordinal) || name.Contains(".lora_", StringComparison.Ordinal);

    /// <summary>Groups the LoRA tensors among <paramref name="names"/> that start with <paramref name="prefix"/>.</summary>
    public static LoraTensorIndex Scan(IEnumerable<string> names, string prefix = "", string adapter = "default")
    {
        ArgumentNullException.ThrowIfNull(names);
        string aSuffix = $".lora_A.{adapter}.weight", bSuffix = $".lora_B.{adapter}.weight";
        var a = new Dictionary<string, string>(StringComparer.Ordinal);
        var b = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        var all = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || !IsLoraName(name[prefix.Length..]))
            {
                continue;
            }

            all.Add(name);
            string rest = name[prefix.Length..];
            if (rest.EndsWith(aSuffix, StringComparison.Ordinal))
            {
                a[rest[..^aSuffix.Length]] = name;
            }
            else if (rest.EndsWith(bSuffix, StringComparison.Ordinal))
            {
                b[rest[..^bSuffix.Length]] = name;
            }
            else
            {
                problems.Add($"{name} (not a lora_A/lora_B weight of adapter '{adapter}'; the host merges plain LoRA only)");
            }
        }

        var modules = new Dictionary<string, LoraPair>(StringComparer.Ordinal);
        foreach (var (module, aName) in a)
        {
            if (b.TryGetValue(module, out string? bName))
            {
                modules[module] = new LoraPair(module, aName, bName);
            }
            else
            {
                problems.Add($"{aName} (its lora_B is missing)");
            }
        }

        problems.AddRange(b.Where(kv => !a.ContainsKey(kv.Key)).Select(kv => $"{kv.Value} (its lora_A is missing)"));
        return new LoraTensorIndex(modules, problems, all);
    }

    /// <summary>The pair of <paramref name="module"/>, marked used; null when the module has no adapter.</summary>
    public LoraPair? Take(string module)
    {
        if (!_modules.TryGetValue(module, out var pair))
        {
            return null;
        }

        _taken.Add(module);
        return pair;
    }

    /// <summary>Full names of the factors of every pair no one <see cref="Take"/>-d.</summary>
    public IReadOnlyList<string> Unused =>
        _modules.Where(kv => !_taken.Contains(kv.Key)).SelectMany(kv => new[] { kv.Value.A, kv.Value.B }).Order(StringComparer.Ordinal).ToArray();
}

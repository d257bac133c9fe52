using System.Text.Json;
using System.Text.RegularExpressions;
using JudgeHost.Abstractions;

namespace JudgeHost.Backbone;

/// <summary>
/// The fields of a peft <c>LoraConfig</c> that decide the merged weights: rank, alpha (scaling <c>alpha / r</c>, or
/// <c>alpha / sqrt(r)</c> with rsLoRA), per-module rank and alpha patterns, and which modules are targets
/// (<c>target_modules</c> as peft's <c>check_target_module_exists</c> matches them: a list entry equals the module
/// path or is its last dotted component(s); a string is a regular expression that must match the whole path).
/// Settings that change the maths in ways <see cref="LoraMerge"/> does not implement (DoRA, LoRA biases, layer
/// selection) are refused when read.
/// </summary>
public sealed record LoraSettings
{
    /// <summary>peft's default targets for a Llama when <c>target_modules</c> is absent (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING).</summary>
    public static IReadOnlyList<string> PeftLlamaDefaultTargets { get; } = ["q_proj", "v_proj"];

    /// <summary><c>r</c>: the adapter rank.</summary>
    public required int R { get; init; }

    /// <summary><c>lora_alpha</c>.</summary>
    public required double Alpha { get; init; }

    /// <summary><c>target_modules</c> as a list (ignored when <see cref="TargetRegex"/> is set).</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = [];

    /// <summary><c>target_modules</c> given as one string: a regular expression matched against the whole module path.</summary>
    public string? TargetRegex { get; init; }

    /// <summary><c>exclude_modules</c> (list form).</summary>
    public IReadOnlyList<string> ExcludeModules { get; init; } = [];

    /// <summary><c>use_rslora</c>: scaling <c>alpha / sqrt(r)</c>.</summary>
    public bool UseRslora { get; init; }

    /// <summary><c>fan_in_fan_out</c>: the base weight is stored <c>[in, out]</c> (GPT-2 Conv1D), so the update is transposed.</summary>
    public bool FanInFanOut { get; init; }

    /// <summary><c>rank_pattern</c>: module-name pattern → rank, first match in file order wins (peft get_pattern_key).</summary>
    public IReadOnlyList<KeyValuePair<string, int>> RankPattern { get; init; } = [];

    /// <summary><c>alpha_pattern</c>: module-name pattern → alpha.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> AlphaPattern { get; init; } = [];

    /// <summary>The rank of <paramref name="module"/> (a dotted module path such as <c>model.layers.0.self_attn.q_proj</c>).</summary>
    public int RankFor(string module) => Pattern(RankPattern, module) ?? R;

    /// <summary>The alpha of <paramref name="module"/>.</summary>
    public double AlphaFor(string module) => Pattern(AlphaPattern, module) ?? Alpha;

    /// <summary>The factor the update <c>B·A</c> is multiplied by for <paramref name="module"/> (peft <c>LoraLayer.scaling</c>).</summary>
    public double ScalingFor(string module)
    {
        int r = RankFor(module);
        double alpha = AlphaFor(module);
        return UseRslora ? alpha / Math.Sqrt(r) : alpha / r;
    }

    /// <summary>Whether peft would wrap <paramref name="module"/> (a dotted path below the model root) with this adapter.</summary>
    public bool IsTarget(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (ExcludeModules.Any(e => module == e || module.EndsWith("." + e, StringComparison.Ordinal)))
        {
            return false;
        }

        return TargetRegex is { } regex
            ? Regex.IsMatch(module, $"^(?:{regex})$", RegexOptions.CultureInvariant)
            : TargetModules.Any(t => module == t || module.EndsWith("." + t, StringComparison.Ordinal));
    }

    /// <summary>Reads a peft <c>adapter_config.json</c>; unsupported settings are refused with a typed error naming them.</summary>
    public static LoraSettings ReadAdapterConfig(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CorruptCheckpointException($"'{path}' is not valid JSON ({e.Message}). Re-download the adapter.", e);
        }

        return FromPeftConfig(root, path);
    }

    /// <summary>A peft <c>LoraConfig</c> as JSON (the content of <c>adapter_config.json</c>); <paramref name="source"/> names it in errors.</summary>
    public static LoraSettings FromPeftConfig(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CorruptCheckpointException($"The LoRA config in '{source}' is not a JSON object.");
        }

        string? Str(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        bool Flag(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;
        bool NonEmpty(string key) => root.TryGetProperty(key, out var v) && v.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined or JsonValueKind.False => false,
            JsonValueKind.Array => v.GetArrayLength() > 0,
            JsonValueKind.Object => v.EnumerateObject().Any(),
            JsonValueKind.String => v.GetString()!.Length > 0,
            _ => true,
        };

        var unsupported = new List<string>();
        if (Str("peft_type") is { } type && !type.Equals("LORA", StringComparison.OrdinalIgnoreCase))
        {
            unsupported.Add($"peft_type '{type}' (only LORA)");
        }

        if (Flag("use_dora"))
        {
            unsupported.Add("use_dora (DoRA's magnitude vector)");
        }

        if (Flag("lora_bias"))
        {
            unsupported.Add("lora_bias");
        }

        if (Str("bias") is { } bias && bias != "none")
        {
            unsupported.Add($"bias '{bias}' (trained biases)");
        }

        foreach (string key in new[] { "layers_to_transform", "layers_pattern", "target_parameters", "use_qalora", "alora_invocation_tokens" })
        {
            if (NonEmpty(key))
            {
                unsupported.Add(key);
            }
        }

        if (unsupported.Count > 0)
        {
            throw new CorruptCheckpointException($"The LoRA config in '{source}' uses {string.Join(", ", unsupported)}, which the host cannot merge. Merge the adapter with peft (merge_and_unload) and load the merged model instead.");
        }

        int r = root.TryGetProperty("r", out var rv) && rv.TryGetInt32(out int ri) ? ri : 8;
        double alpha = root.TryGetProperty("lora_alpha", out var av) && av.TryGetDouble(out double ad) ? ad : 8;
        if (r <= 0)
        {
            throw new CorruptCheckpointException($"The LoRA config in '{source}' has r = {r}; the rank must be positive.");
        }

        IReadOnlyList<string> targets = PeftLlamaDefaultTargets;
        string? targetRegex = null;
        if (root.TryGetProperty("target_modules", out var tm))
        {
            if (tm.ValueKind == JsonValueKind.String)
            {
                targetRegex = tm.GetString();
            }
            else if (tm.ValueKind == JsonValueKind.Array)
            {
                targets = tm.EnumerateArray().Select(t => t.GetString() ?? "").ToArray();
            }
        }

        var exclude = root.TryGetProperty("exclude_modules", out var ex) && ex.ValueKind == JsonValueKind.Array
            ? ex.EnumerateArray().Select(t => t.GetString() ?? "").ToArray()
            : [];
        if (root.TryGetProperty("exclude_modules", out var exs) && exs.ValueKind == JsonValueKind.String)
        {
            throw new CorruptCheckpointException($"The LoRA config in '{source}' gives exclude_modules as a regular expression, which the host does not support. List the excluded modules instead.");
        }

        return new LoraSettings
        {
            R = r,
            Alpha = alpha,
            TargetModules = targets,
            TargetRegex = targetRegex,
            ExcludeModules = exclude,
            UseRslora = Flag("use_rslora"),
            FanInFanOut = Flag("fan_in_fan_out"),
            RankPattern = Patterns(root, "rank_pattern", e => e.GetInt32()),
            AlphaPattern = Patterns(root, "alpha_pattern", e => e.GetDouble()),
        };
    }

    private static KeyValuePair<string, T>[] Patterns<T>(JsonElement root, string key, Func<JsonElement, T> read) =>
        root.TryGetProperty(key, out var p) && p.ValueKind == JsonValueKind.Object
            ? p.EnumerateObject().Select(e => new KeyValuePair<string, T>(e.Name, read(e.Value))).ToArray()
            : [];

    // peft get_pattern_key: the first pattern whose regex "(.*\.)?(pattern)$" matches from the start of the name.
    private static T? Pattern<T>(IReadOnlyList<KeyValuePair<string, T>> patterns, string module)
        where T : struct
    {
        foreach (var (pattern, value) in patterns)
        {
            if (Regex.IsMatch(module, $"^(.*\\.)?({pattern})$", RegexOptions.CultureInvariant))
            {
                return value;
            }
        }

        return null;
    }
}

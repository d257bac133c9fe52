using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace JudgeHost.Training;

/// <summary>LoRA settings, named as PEFT's <c>LoraConfig</c> (written to <c>adapter_config.json</c>).</summary>
/// <param name="Rank">r: rank of the update B·A.</param>
/// <param name="Alpha">lora_alpha: the update is scaled by alpha / r.</param>
/// <param name="Targets">target_modules: projection names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj).</param>
/// <param name="Dropout">lora_dropout on the adapter's input while training.</param>
public sealed record LoraOptions(int Rank, double Alpha, IReadOnlyList<string> Targets, double Dropout = 0.0)
{
    public static readonly IReadOnlyList<string> AllProjections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public double Scaling => Alpha / Rank;

    public void Validate()
    {
        if (Rank < 1 || !(Alpha > 0) || Dropout is < 0 or >= 1 || Targets.Count == 0)
        {
            throw new JudgeHostException($"Invalid LoRA settings (r {Rank}, alpha {Alpha}, dropout {Dropout}, {Targets.Count} targets): r >= 1, alpha > 0, 0 <= dropout < 1, at least one target module.");
        }

        var unknown = Targets.Where(t => !AllProjections.Contains(t)).ToList();
        if (unknown.Count > 0)
        {
            throw new JudgeHostException($"Unknown LoRA target module(s) {string.Join(", ", unknown)}; use any of {string.Join(", ", AllProjections)}.");
        }
    }
}

/// <summary>
/// LoRA adapters on a <see cref="CausalLM"/>: attach fresh ones (PEFT's initialisation: A Kaiming-uniform with
/// a = √5, B zero, so the model starts unchanged), save and load them in PEFT's layout
/// (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>, keys
/// <c>base_model.model.&lt;module&gt;.lora_A.weight</c>), and merge them into the base weights (W + alpha/r · B A).
/// </summary>
public static class LoraAdapter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    private const string KeyPrefix = "base_model.model.";

    /// <summary>The projections of <paramref name="model"/> that <paramref name="options"/> targets, by module name.</summary>
    public static IReadOnlyList<(string Name, Proj Proj)> Targets(CausalLM model, LoraOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var found = model.named_modules()
            .Where(m => m.module is Proj && options.Targets.Contains(m.name[(m.name.LastIndexOf('.') + 1)..]) && m.name.StartsWith("model.layers.", StringComparison.Ordinal))
            .Select(m => (m.name, (Proj)m.module))
            .ToList();
        return found.Count > 0 ? found : throw new JudgeHostException($"No projection of the model matches the LoRA targets {string.Join(", ", options.Targets)}.");
    }

    /// <summary>Attaches new trainable adapters (seeded by the global torch seed) and returns their parameters.</summary>
    public static IReadOnlyList<Parameter> Attach(CausalLM model, LoraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var parameters = new List<Parameter>();
        foreach (var (_, proj) in Targets(model, options))
        {
            long outFeatures = proj.Weight.shape[0], inFeatures = proj.Weight.shape[1];
            var a = empty(options.Rank, inFeatures, ScalarType.Float32);
            nn.init.kaiming_uniform_(a, Math.Sqrt(5));
            var b = zeros(outFeatures, options.Rank, ScalarType.Float32);
            var layer = new LoraLayer(new Parameter(a, requires_grad: true), new Parameter(b, requires_grad: true), options.Scaling, options.Dropout);
            proj.Lora = layer;
            parameters.Add(layer.A);
            parameters.Add(layer.B);
        }

        return parameters;
    }

    /// <summary>Switches adapter dropout on or off.</summary>
    public static void SetTraining(CausalLM model, bool training)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var proj in model.modules().OfType<Proj>().Where(p => p.Lora is not null))
        {
            proj.Lora!.Training = training;
        }
    }

    /// <summary>Writes the attached adapters in PEFT's layout.</summary>
    public static void Save(CausalLM model, LoraOptions options, string directory, string baseModel)
    {
        Directory.CreateDirectory(directory);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, proj) in Targets(model, options))
        {
            var layer = proj.Lora ?? throw new InvalidOperationException($"{name} has no adapter attached.");
            tensors.Add(new($"{KeyPrefix}{name}.lora_A.weight", layer.A.detach()));
            tensors.Add(new($"{KeyPrefix}{name}.lora_B.weight", layer.B.detach()));
        }

        string temp = Path.Combine(directory, WeightsFile + ".tmp");
        SafeTensorsWriter.Write(temp, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.Move(temp, Path.Combine(directory, WeightsFile), overwrite: true);
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = options.Rank,
            ["lora_alpha"] = options.Alpha,
            ["lora_dropout"] = options.Dropout,
            ["target_modules"] = new JsonArray(options.Targets.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["use_rslora"] = false,
            ["inference_mode"] = true,
        };
        File.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Reads <c>adapter_config.json</c>; only plain LoRA (no rsLoRA, DoRA, biases or fan-in-fan-out) is accepted.</summary>
    public static LoraOptions ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
        {
            throw new JudgeHostException($"'{directory}' has no {ConfigFile}; it is not a PEFT LoRA adapter.");
        }

        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            string type = root["peft_type"]?.GetValue<string>() ?? "LORA";
            if (type != "LORA" || root["use_rslora"]?.GetValue<bool>() == true || root["use_dora"]?.GetValue<bool>() == true
                || root["fan_in_fan_out"]?.GetValue<bool>() == true || (root["bias"]?.GetValue<string>() ?? "none") != "none")
            {
                throw new JudgeHostException($"'{path}': only plain LoRA adapters are supported (peft_type LORA, no rsLoRA, DoRA, fan_in_fan_out or bias).");
            }

            var targets = root["target_modules"] switch
            {
                JsonArray a => a.Select(t => t!.GetValue<string>()).ToList(),
                JsonValue v => [v.GetValue<string>()],
                _ => throw new JudgeHostException($"'{path}' names no target_modules."),
            };
            var options = new LoraOptions(root["r"]!.GetValue<int>(), root["lora_alpha"]!.GetValue<double>(), targets, root["lora_dropout"]?.GetValue<double>() ?? 0);
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new JudgeHostException($"'{path}' is not a valid adapter config ({e.Message}).", e);
        }
    }

    /// <summary>Loads a PEFT adapter onto <paramref name="model"/> (strict: every target needs both matrices of the right shape, and no tensor may be left over).</summary>
    public static LoraOptions Load(CausalLM model, string directory, bool trainable)
    {
        ArgumentNullException.ThrowIfNull(model);
        var options = ReadConfig(directory);
        using var file = SafeTensorsFile.Open(Path.Combine(directory, WeightsFile));
        var unused = new HashSet<string>(file.Entries.Select(e => e.Name), StringComparer.Ordinal);
        foreach (var (name, proj) in Targets(model, options))
        {
            Tensor Read(string part, long rows, long cols)
            {
                string key = $"{KeyPrefix}{name}.{part}.weight";
                if (!unused.Remove(key))
                {
                    throw new MissingWeightsException($"Adapter '{directory}' lacks {key}.");
                }

                var t = file.Load(key).to(ScalarType.Float32);
                return t.shape.SequenceEqual([rows, cols]) ? t
                    : throw new CorruptCheckpointException($"Adapter '{directory}': {key} has shape [{string.Join(", ", t.shape)}], expected [{rows}, {cols}].");
            }

            var a = Read("lora_A", options.Rank, proj.Weight.shape[1]);
            var b = Read("lora_B", proj.Weight.shape[0], options.Rank);
            proj.Lora = new LoraLayer(new Parameter(a, requires_grad: trainable), new Parameter(b, requires_grad: trainable), options.Scaling, options.Dropout);
        }

        return unused.Count == 0 ? options
            : throw new CorruptCheckpointException($"Adapter '{directory}' has {unused.Count} tensor(s) no target module takes, e.g. {unused.Order(StringComparer.Ordinal).First()}; check target_modules in {ConfigFile}.");
    }

    /// <summary>The attached adapters' trainable tensors, in module order.</summary>
    public static IReadOnlyList<Parameter> Parameters(CausalLM model) =>
        model.modules().OfType<Proj>().Where(p => p.Lora is not null).SelectMany(p => new[] { p.Lora!.A, p.Lora!.B }).ToList();

    /// <summary>Folds every attached adapter into its base weight (<see cref="LoraMerge"/>: W + alpha/r · B A in float32) and detaches it.</summary>
    public static int Merge(CausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int merged = 0;
        foreach (var proj in model.modules().OfType<Proj>().Where(p => p.Lora is not null))
        {
            var layer = proj.Lora!;
            LoraMerge.MergeInto(proj.Weight, layer.A.detach(), layer.B.detach(), layer.Scaling);
            proj.Lora = null;
            layer.Dispose();
            merged++;
        }

        return merged;
    }

    internal static string Describe(LoraOptions o) =>
        string.Create(CultureInfo.InvariantCulture, $"LoRA r={o.Rank} alpha={o.Alpha} dropout={o.Dropout} on {string.Join(",", o.Targets)}");
}

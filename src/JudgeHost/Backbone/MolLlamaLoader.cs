using System.Diagnostics;
using JudgeHost.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// Loads the Llama decoder of a Mol-LLaMA checkpoint (<see cref="MolLlamaConfig"/>) with its LoRA merged at load:
/// every decoder parameter <c>N</c> is read from <c>llm.base_model.model.N</c> (for a LoRA-wrapped projection peft
/// keeps the frozen weight at <c>….base_layer.weight</c>), or from the base model directory when the checkpoint lacks
/// it (the reference's <c>from_pretrained</c> of <c>llm_model</c>), and <c>W + scaling · B·A</c> is merged in float32
/// (<see cref="LoraMerge"/>). Strict: every LoRA tensor must be merged, every targeted projection must have its
/// factors with the configured rank, every <c>llm.*</c> tensor must be used, and anything outside <c>llm.</c>,
/// <c>encoder.</c> and <c>llm_proj.</c> is unexpected — all reported together, by name. Embedding and LM-head rows the
/// base model lacks (<c>[PAD]</c>, <c>&lt;mol&gt;</c>) are filled with the mean of the other rows and reported in
/// <see cref="LoadReport.Notes"/> (the reference samples them at random in <c>resize_token_embeddings</c>).
/// </summary>
public static class MolLlamaLoader
{
    public static (CausalLM Model, LoadReport Report, MolLlamaConfig Config) Load(string directory, ScalarType dtype, Device device)
    {
        var config = MolLlamaConfig.Load(directory);
        using var files = CheckpointFiles.Open(directory);
        using var baseFiles = config.BaseDirectory is null ? null : CheckpointFiles.Open(config.BaseDirectory);
        var model = new CausalLM(config.Decoder, dtype);
        try
        {
            var report = Fill(model, config, files, baseFiles);
            if (device.type != DeviceType.CPU)
            {
                model.MoveTo(device);
            }

            return (model, report, config);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private sealed record Source(CheckpointFiles Files, string Name, LoraPair? Lora, bool FillRows);

    private static LoadReport Fill(CausalLM model, MolLlamaConfig config, CheckpointFiles files, CheckpointFiles? baseFiles)
    {
        const string Llm = MolLlamaCheckpointKeys.LlmPrefix;
        var lora = LoraTensorIndex.Scan(files.Names, Llm, MolLlamaCheckpointKeys.AdapterName);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        var wrongShape = new List<string>();
        var loraProblems = new List<string>(lora.Problems);
        var notes = new List<string>();
        var plan = new List<(string Name, Tensor Parameter, Source Source)>();
        string Shape(long[] s) => $"[{string.Join(", ", s)}]";

        foreach (var (name, parameter) in model.named_parameters())
        {
            string? module = name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^".weight".Length] : null;
            var pair = module is null ? null : lora.Take(module);
            bool target = module is not null && module.StartsWith("model.layers.", StringComparison.Ordinal) && config.Lora.IsTarget(module);
            if (target && pair is null)
            {
                loraProblems.Add($"{Llm}{module}.lora_A/lora_B.{MolLlamaCheckpointKeys.AdapterName}.weight (the LoRA config targets {module}, but its factors are missing)");
            }
            else if (!target && pair is not null)
            {
                loraProblems.Add($"{pair.A} (the LoRA config from {config.LoraSource} does not target {module})");
            }

            // peft >= 0.7 keeps a wrapped layer's weight at base_layer.weight; older peft (and unwrapped layers) at weight.
            string[] own = pair is null ? [Llm + name] : [$"{Llm}{module}.base_layer.weight", Llm + name];
            string? found = own.FirstOrDefault(files.Contains);
            Source? source = null;
            if (found is not null)
            {
                used.Add(found);
                source = new Source(files, found, pair, FillRows: false);
                if (!files.GetShape(found).SequenceEqual(parameter.shape))
                {
                    wrongShape.Add($"{found} is {Shape(files.GetShape(found))}, the model needs {Shape(parameter.shape)}");
                }
            }
            else if (baseFiles is not null && baseFiles.Contains(name))
            {
                var shape = baseFiles.GetShape(name);
                bool fewerRows = name is "model.embed_tokens.weight" or "lm_head.weight" && shape.Length == 2 && shape[1] == parameter.shape[1] && shape[0] < parameter.shape[0];
                source = new Source(baseFiles, name, pair, fewerRows);
                if (fewerRows)
                {
                    notes.Add($"{name}: rows {shape[0]}..{parameter.shape[0] - 1} ([PAD], <mol>) are in neither '{files.Directory}' nor '{baseFiles.Directory}'; filled with the mean of the other rows.");
                }
                else if (!shape.SequenceEqual(parameter.shape))
                {
                    wrongShape.Add($"{name} in '{baseFiles.Directory}' is {Shape(shape)}, the model needs {Shape(parameter.shape)}");
                }
            }
            else
            {
                missing.Add(own[0]);
            }

            if (pair is not null)
            {
                int r = config.Lora.RankFor(module!);
                long outFeatures = parameter.shape[0], inFeatures = parameter.shape[1];
                if (!files.GetShape(pair.A).SequenceEqual(new long[] { r, inFeatures }))
                {
                    wrongShape.Add($"{pair.A} is {Shape(files.GetShape(pair.A))}, rank {r} from {config.LoraSource} needs [{r}, {inFeatures}]");
                }

                if (!files.GetShape(pair.B).SequenceEqual(new long[] { outFeatures, r }))
                {
                    wrongShape.Add($"{pair.B} is {Shape(files.GetShape(pair.B))}, rank {r} needs [{outFeatures}, {r}]");
                }
            }

            if (source is not null)
            {
                plan.Add((name, parameter, source));
            }
        }

        var unexpected = files.Names
            .Where(n => !used.Contains(n) && !lora.TensorNames.Contains(n)
                && !(config.Decoder.TieWordEmbeddings && n == Llm + "lm_head.weight")
                && !MolLlamaConfig.PluginPrefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal)))
            .ToList();
        loraProblems.AddRange(lora.Unused.Select(n => $"{n} (no decoder projection of that name)"));
        var parts = new List<string>();
        void Part(string label, List<string> items)
        {
            if (items.Count > 0)
            {
                parts.Add($"{label}: {string.Join(", ", items.Take(8))}{(items.Count > 8 ? $" and {items.Count - 8} more" : "")}");
            }
        }

        Part("missing", missing);
        Part("unexpected", unexpected);
        Part("wrong shape", wrongShape);
        Part("LoRA", loraProblems);
        if (parts.Count > 0)
        {
            throw new MissingWeightsException(
                $"The Mol-LLaMA checkpoint in '{files.Directory}' does not match its config ({config.Decoder.NumHiddenLayers} layers, hidden {config.Decoder.HiddenSize}, vocab {config.Decoder.VocabSize}, LoRA r {config.Lora.R} alpha {config.Lora.Alpha} from {config.LoraSource}"
                + (config.BaseDirectory is null ? "" : $", base '{config.BaseDirectory}'") + $"): {string.Join("; ", parts)}.");
        }

        var clock = Stopwatch.StartNew();
        long bytes = 0;
        using (no_grad())
        {
            Parallel.ForEach(plan, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, p =>
            {
                using var scope = NewDisposeScope();
                var (_, parameter, source) = p;
                var entry = source.Files.Entry(source.Name);
                if (source.FillRows)
                {
                    var rows = source.Files.Load(source.Name, ScalarType.Float32);                              // [V0, D]
                    var fill = rows.mean([0], keepdim: true).expand(parameter.shape[0] - rows.shape[0], rows.shape[1]);
                    parameter.copy_(cat([rows, fill], 0));                                                      // [V, D]
                }
                else if (entry.DType == parameter.dtype)
                {
                    source.Files.ReadInto(source.Name, parameter);
                }
                else
                {
                    parameter.copy_(source.Files.Load(source.Name));
                }

                if (source.Lora is { } pair)
                {
                    string module = pair.Module;
                    // fan_in_fan_out does not apply: peft forces it off for torch.nn.Linear targets.
                    LoraMerge.MergeInto(parameter, files.Load(pair.A), files.Load(pair.B), config.Lora.ScalingFor(module));
                    Interlocked.Add(ref bytes, files.Entry(pair.A).Length + files.Entry(pair.B).Length);
                }

                Interlocked.Add(ref bytes, entry.Length);
            });
        }

        return new LoadReport(bytes, clock.Elapsed, plan.Count) { Notes = notes };
    }
}

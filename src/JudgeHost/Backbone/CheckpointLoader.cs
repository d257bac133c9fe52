using System.Diagnostics;
using JudgeHost.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>What a load did: the model, bytes read and time taken.</summary>
public sealed record LoadReport(long Bytes, TimeSpan Elapsed, int Tensors)
{
    /// <summary>Things the load did that the user should know (e.g. vocabulary rows no file holds, filled).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public double GigabytesPerSecond => Bytes / 1e9 / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Loads a Qwen2 / Llama checkpoint strictly: every model parameter must be in the files with its exact shape,
/// and every tensor in the files must belong to the model (the one tolerated extra is <c>lm_head.weight</c> in a
/// tied checkpoint, which transformers also ignores). All problems are reported together, by name. Mol-LLaMA
/// checkpoints (peft-wrapped Llama with LoRA) go through <see cref="MolLlamaLoader"/>.
/// </summary>
public static class CheckpointLoader
{
    public static (CausalLM Model, LoadReport Report) Load(string directory, ScalarType dtype, Device device)
    {
        var config = DecoderConfig.Load(directory);
        if (config.ModelType == MolLlamaConfig.ModelType)
        {
            var (molModel, molReport, _) = MolLlamaLoader.Load(directory, dtype, device);
            return (molModel, molReport);
        }

        using var files = CheckpointFiles.Open(directory);
        var model = new CausalLM(config, dtype);
        try
        {
            var report = Fill(model, files, config);
            if (device.type != DeviceType.CPU)
            {
                model.MoveTo(device);
            }

            return (model, report);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static LoadReport Fill(CausalLM model, CheckpointFiles files, DecoderConfig config)
    {
        // Qwen2.5-VL checkpoints re-saved by transformers >= 4.52 nest the decoder under model.language_model.
        bool nested = files.Names.Any(n => n.StartsWith("model.language_model.", StringComparison.Ordinal));
        string FileName(string name) => config.WeightPrefix + (nested && name.StartsWith("model.", StringComparison.Ordinal) ? "model.language_model." + name[6..] : name);
        var parameters = model.named_parameters().Select(p => (name: FileName(p.name), p.parameter)).ToList();
        var expected = parameters.Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        var missing = parameters.Where(p => !files.Contains(p.name)).Select(p => p.name).ToList();
        var unexpected = files.Names.Where(n => !expected.Contains(n)
            && !(config.TieWordEmbeddings && n == config.WeightPrefix + "lm_head.weight")
            && !config.PluginPrefixes.Any(prefix => n.StartsWith(prefix, StringComparison.Ordinal))).ToList();
        var wrongShape = parameters.Where(p => files.Contains(p.name) && !files.GetShape(p.name).SequenceEqual(p.parameter.shape))
            .Select(p => $"{p.name} is [{string.Join(", ", files.GetShape(p.name))}] in the file, the config needs [{string.Join(", ", p.parameter.shape)}]")
            .ToList();
        if (missing.Count + unexpected.Count + wrongShape.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0)
            {
                parts.Add($"missing: {Summarize(missing)}");
            }

            if (unexpected.Count > 0)
            {
                parts.Add($"unexpected: {Summarize(unexpected)}");
            }

            if (wrongShape.Count > 0)
            {
                parts.Add($"wrong shape: {Summarize(wrongShape)}");
            }

            throw new MissingWeightsException(
                $"The checkpoint in '{files.Directory}' does not match its config.json ({config.ModelType}, {config.NumHiddenLayers} layers, hidden {config.HiddenSize}): {string.Join("; ", parts)}. Use the config.json that belongs to these weights.");
        }

        var clock = Stopwatch.StartNew();
        long bytes = 0;
        using (no_grad())
        {
            // Tensors are independent: read them in parallel (first touch of fresh pages dominates on this VM).
            Parallel.ForEach(parameters, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, p =>
            {
                var entry = files.Entry(p.name);
                if (entry.DType == p.parameter.dtype)
                {
                    files.ReadInto(p.name, p.parameter);
                }
                else
                {
                    using var stored = files.Load(p.name);
                    p.parameter.copy_(stored);
                }

                Interlocked.Add(ref bytes, entry.Length);
            });
        }

        return new LoadReport(bytes, clock.Elapsed, parameters.Count);
    }

    private static string Summarize(List<string> names) =>
        names.Count <= 8 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(8))} and {names.Count - 8} more";
}

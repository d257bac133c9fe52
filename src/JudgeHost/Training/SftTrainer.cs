using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace JudgeHost.Training;

/// <summary>Supervised fine-tuning settings (TRL SFTConfig / HF TrainingArguments names in the docs).</summary>
public sealed record SftOptions
{
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>Linear warm-up from 0 over this many optimizer steps, then cosine decay to 0 (get_cosine_schedule_with_warmup).</summary>
    public int WarmupSteps { get; init; }

    public int Epochs { get; init; } = 1;

    /// <summary>Stop after this many optimizer steps (overrides <see cref="Epochs"/> when set).</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Sequences per micro-batch (per_device_train_batch_size).</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Micro-batches per optimizer step (gradient_accumulation_steps).</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Global gradient-norm clip (max_grad_norm); 0 disables.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    public double WeightDecay { get; init; }

    public long Seed { get; init; }

    public int MaxLength { get; init; } = 2048;

    /// <summary>Write <c>checkpoint-N/</c> every this many steps (0: only at the end).</summary>
    public int SaveEvery { get; init; }

    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Sort samples into micro-batches that begin alike so their shared start runs once (see <see cref="SftTrainer.Batch"/>).</summary>
    public bool GroupByPrefix { get; init; } = true;

    /// <summary>Train LoRA adapters instead of every weight (the base stays frozen); null: full fine-tuning.</summary>
    public LoraOptions? Lora { get; init; }

    /// <summary>With <see cref="Lora"/>: also write the base with the adapters merged into <c>merged/</c>.</summary>
    public bool MergeLora { get; init; }

    /// <summary>
    /// Loss weight per target token id (others 1): each trained position's cross-entropy is multiplied by its target's
    /// weight and the step's loss divided by the summed weights, so a rare decisive token (a verdict, a check mark)
    /// can count for more than its share of the tokens. Null: plain mean over the trained tokens.
    /// </summary>
    public IReadOnlyDictionary<int, double>? TokenWeights { get; init; }

    public void Validate()
    {
        Lora?.Validate();
        if (MergeLora && Lora is null)
        {
            throw new JudgeHostException("Merging LoRA adapters needs LoRA training (--lora-r).");
        }

        if (TokenWeights is not null && TokenWeights.Values.Any(w => !(w >= 0) || double.IsInfinity(w)))
        {
            throw new JudgeHostException("Token loss weights must be finite and >= 0.");
        }

        if (!(LearningRate > 0) || BatchSize < 1 || GradientAccumulation < 1 || Epochs < 1 || WarmupSteps < 0 || MaxGradNorm < 0 || WeightDecay < 0 || MaxLength < 2 || SaveEvery < 0 || MaxSteps is < 1)
        {
            throw new JudgeHostException("Invalid SFT settings: learning rate > 0, batch size, accumulation and epochs >= 1, warm-up, clip, weight decay and save interval >= 0, max length >= 2.");
        }

        if (DType is not (ScalarType.Float32 or ScalarType.BFloat16))
        {
            throw new JudgeHostException($"Training dtype {DType} is not supported; use float32 or bfloat16.");
        }
    }
}

/// <summary>One optimizer step's numbers.</summary>
public sealed record SftStep(int Step, int TotalSteps, int Epoch, double Loss, double LearningRate, double GradNorm, int TrainedTokens, double TokensPerSecond);

/// <summary>What a run did.</summary>
public sealed record SftResult(int Steps, int ResumedFrom, double FirstLoss, double LastLoss, string OutputDirectory);

/// <summary>
/// Full-parameter supervised fine-tuning of a Qwen2/Llama checkpoint on <see cref="SftSample"/>s: cross-entropy on the
/// assistant tokens only, summed over an optimizer step's micro-batches and divided by that step's trained-token count
/// (so accumulation equals one large batch), AdamW, warm-up + cosine schedule, gradient clipping, seeded data order
/// (a fresh permutation per epoch from the seed, so a resumed run sees exactly the batches an uninterrupted one would).
/// Checkpoints are Hugging Face model directories (config.json, model.safetensors, tokenizer and generation files) plus
/// <c>trainer_state.json</c> and <c>optimizer.bin</c> for resuming.
/// </summary>
public static class SftTrainer
{
    private const string StateFile = "trainer_state.json";
    private const string OptimizerFile = "optimizer.bin";
    private static readonly string[] CopiedFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "chat_template.jinja", "vocab.json", "merges.txt"];

    public static SftResult Train(string modelDirectory, IReadOnlyList<SftSample> samples, string outputDirectory, SftOptions options, bool resume, Action<SftStep>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int perStep = options.BatchSize * options.GradientAccumulation;
        int stepsPerEpoch = (samples.Count + perStep - 1) / perStep;
        int totalSteps = options.MaxSteps ?? (stepsPerEpoch * options.Epochs);

        string? checkpoint = resume ? LatestCheckpoint(outputDirectory) : null;
        if (resume && checkpoint is null)
        {
            throw new JudgeHostException($"--resume: no checkpoint-N folder with {StateFile} in '{outputDirectory}'.");
        }

        int startStep = checkpoint is null ? 0 : ReadState(checkpoint).Step;
        bool lora = options.Lora is not null;
        var (model, _) = CheckpointLoader.Load(lora ? modelDirectory : checkpoint ?? modelDirectory, options.DType, CPU);
        using (model)
        {
            model.train();
            List<TorchSharp.Modules.Parameter> parameters;
            if (lora)
            {
                // The base stays frozen; only the adapters (fresh, or the checkpoint's when resuming) are trained.
                parameters = (checkpoint is null ? LoraAdapter.Attach(model, options.Lora!) : LoraAdapter.Parameters(LoadAdapter(model, checkpoint, options.Lora!))).ToList();
                LoraAdapter.SetTraining(model, true);
            }
            else
            {
                parameters = model.parameters().ToList();
                foreach (var p in parameters)
                {
                    p.requires_grad = true;
                }
            }

            using var optimizer = optim.AdamW(parameters, options.LearningRate, 0.9, 0.999, 1e-8, options.WeightDecay);
            if (checkpoint is not null)
            {
                optimizer.load_state_dict(Path.Combine(checkpoint, OptimizerFile));
            }

            double firstLoss = double.NaN, lastLoss = double.NaN;
            for (int step = startStep; step < totalSteps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                double lr = Schedule(step, totalSteps, options);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = lr;
                }

                var micro = Enumerable.Range(0, options.GradientAccumulation)
                    .Select(k => Batch(samples, (step * options.GradientAccumulation) + k, options, stepsPerEpoch))
                    .Where(b => b.Count > 0)
                    .ToList();
                int tokens = micro.Sum(b => b.Sum(s => s.Trained.Skip(1).Count(t => t)));
                double weight = options.TokenWeights is null ? tokens : micro.Sum(b => b.Sum(s => TrainedWeight(s, options.TokenWeights)));
                optimizer.zero_grad();
                double lossSum = 0;
                foreach (var batch in micro)
                {
                    using var scope = NewDisposeScope();
                    var loss = BatchLossSum(model, batch, weights: options.TokenWeights) / Math.Max(weight, 1e-9);
                    loss.backward();
                    lossSum += loss.item<float>();
                }

                double norm = options.MaxGradNorm > 0 ? nn.utils.clip_grad_norm_(parameters, options.MaxGradNorm) : double.NaN;
                optimizer.step();
                lastLoss = lossSum;
                firstLoss = double.IsNaN(firstLoss) ? lossSum : firstLoss;
                int epoch = (step * perStep / Math.Max(samples.Count, 1)) + 1;
                progress?.Invoke(new SftStep(step + 1, totalSteps, epoch, lossSum, lr, norm, tokens, micro.Sum(b => b.Sum(s => s.Ids.Length)) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
                if (options.SaveEvery > 0 && (step + 1) % options.SaveEvery == 0 && step + 1 < totalSteps)
                {
                    Save(model, optimizer, modelDirectory, Path.Combine(outputDirectory, $"checkpoint-{step + 1}"), step + 1, lossSum, options);
                }
            }

            Save(model, optimizer, modelDirectory, Path.Combine(outputDirectory, $"checkpoint-{totalSteps}"), totalSteps, lastLoss, options);
            if (lora)
            {
                LoraAdapter.Save(model, options.Lora!, outputDirectory, Path.GetFullPath(modelDirectory));
                if (options.MergeLora)
                {
                    LoraAdapter.Merge(model);
                    WriteModel(model, modelDirectory, Path.Combine(outputDirectory, "merged"), options);
                }
            }
            else
            {
                WriteModel(model, modelDirectory, outputDirectory, options);
            }

            return new SftResult(totalSteps - startStep, startStep, firstLoss, lastLoss, outputDirectory);
        }
    }

    /// <summary>Warm-up then cosine decay, as transformers' get_cosine_schedule_with_warmup (LambdaLR at <paramref name="step"/>).</summary>
    public static double Schedule(int step, int totalSteps, SftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (step < options.WarmupSteps)
        {
            return options.LearningRate * step / Math.Max(1, options.WarmupSteps);
        }

        double progress = (double)(step - options.WarmupSteps) / Math.Max(1, totalSteps - options.WarmupSteps);
        return options.LearningRate * Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>
    /// The samples of micro-batch <paramref name="index"/> (global, across epochs): epoch e uses a permutation seeded by
    /// (seed, e). With <see cref="SftOptions.GroupByPrefix"/> each window of <see cref="GroupWindow"/> consecutive
    /// micro-batches of that permutation is sorted by token ids before it is cut, so a micro-batch holds samples that
    /// begin alike (the same system prompt) and their shared start runs once — the idea of transformers'
    /// <c>group_by_length</c> mega-batches, applied to prefixes.
    /// </summary>
    public static IReadOnlyList<SftSample> Batch(IReadOnlyList<SftSample> samples, int index, SftOptions options, int stepsPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        int microPerEpoch = stepsPerEpoch * options.GradientAccumulation;
        int epoch = index / microPerEpoch;
        int within = index % microPerEpoch;
        var order = Enumerable.Range(0, samples.Count).ToArray();
        new Random(Curriculum.Seeded($"{options.Seed}:epoch:{epoch}")).Shuffle(order);   // the same order in every process (resume)
        if (!options.GroupByPrefix)
        {
            return order.Skip(within * options.BatchSize).Take(options.BatchSize).Select(i => samples[i]).ToList();
        }

        int windowStart = within / GroupWindow * GroupWindow * options.BatchSize;
        var window = order.Skip(windowStart).Take(GroupWindow * options.BatchSize)
            .OrderBy(i => samples[i].Ids, IdsComparer.Instance).ThenBy(i => i).ToList();
        return window.Skip((within % GroupWindow) * options.BatchSize).Take(options.BatchSize).Select(i => samples[i]).ToList();
    }

    /// <summary>Micro-batches per sorting window of <see cref="SftOptions.GroupByPrefix"/>.</summary>
    public const int GroupWindow = 8;

    private sealed class IdsComparer : IComparer<int[]>
    {
        public static readonly IdsComparer Instance = new();

        public int Compare(int[]? x, int[]? y)
        {
            ArgumentNullException.ThrowIfNull(x);
            ArgumentNullException.ThrowIfNull(y);
            int n = Math.Min(x.Length, y.Length);
            for (int i = 0; i < n; i++)
            {
                if (x[i] != y[i])
                {
                    return x[i].CompareTo(y[i]);
                }
            }

            return x.Length.CompareTo(y.Length);
        }
    }

    /// <summary>
    /// Summed next-token cross-entropy over the trained positions of one right-padded batch. The tokens every row
    /// shares at its start, up to the first trained token, run once for the whole batch
    /// (<see cref="CausalLM.TrainingForward"/> with a shared prefix) unless <paramref name="sharePrefix"/> is false.
    /// </summary>
    public static Tensor BatchLossSum(CausalLM model, IReadOnlyList<SftSample> batch, bool sharePrefix = true, IReadOnlyDictionary<int, double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        int length = batch.Max(s => s.Ids.Length);
        int prefix = sharePrefix && batch.Count > 1 ? SharedPrefix(batch) : 0;
        int predicted = length - 1 - prefix;                       // positions prefix .. length-2 predict a next token
        var ids = new long[batch.Count * length];
        var valid = new bool[batch.Count * length];
        var targets = Enumerable.Repeat(-100L, batch.Count * predicted).ToArray();
        for (int b = 0; b < batch.Count; b++)
        {
            var s = batch[b];
            for (int i = 0; i < s.Ids.Length; i++)
            {
                ids[(b * length) + i] = s.Ids[i];
                valid[(b * length) + i] = true;
                if (i > prefix && s.Trained[i])
                {
                    targets[(b * predicted) + i - 1 - prefix] = s.Ids[i];   // position i-1 predicts token i
                }
            }
        }

        var logits = model.TrainingForward(tensor(ids).view(batch.Count, length), tensor(valid).view(batch.Count, length), prefix);
        var shifted = logits.narrow(1, 0, predicted).reshape(-1, logits.shape[^1]).to(ScalarType.Float32);
        if (weights is null)
        {
            return F.cross_entropy(shifted, tensor(targets), ignore_index: -100, reduction: nn.Reduction.Sum);
        }

        var perToken = F.cross_entropy(shifted, tensor(targets), ignore_index: -100, reduction: nn.Reduction.None);   // 0 where ignored
        var w = targets.Select(t => t < 0 ? 0f : (float)weights.GetValueOrDefault((int)t, 1.0)).ToArray();
        return (perToken * tensor(w)).sum();
    }

    /// <summary>The summed loss weights of a sample's trained targets (its trained-token count when every weight is 1).</summary>
    public static double TrainedWeight(SftSample sample, IReadOnlyDictionary<int, double> weights)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(weights);
        double sum = 0;
        for (int i = 1; i < sample.Ids.Length; i++)
        {
            sum += sample.Trained[i] ? weights.GetValueOrDefault(sample.Ids[i], 1.0) : 0;
        }

        return sum;
    }

    /// <summary>
    /// How many leading tokens all samples share, stopping before the position that predicts the first trained token
    /// (its logits must come from the per-row pass); 0 when sharing would save little.
    /// </summary>
    public static int SharedPrefix(IReadOnlyList<SftSample> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int limit = batch.Min(s => Math.Max(0, Array.IndexOf(s.Trained, true) - 1));
        limit = Math.Min(limit, batch.Min(s => s.Ids.Length) - 1);
        int n = 0;
        while (n < limit && batch.All(s => s.Ids[n] == batch[0].Ids[n]))
        {
            n++;
        }

        return n >= 8 ? n : 0;
    }

    /// <summary>Loads <paramref name="modelDirectory"/>, merges the PEFT adapter in <paramref name="adapterDirectory"/> and writes the result.</summary>
    public static int MergeAdapter(string modelDirectory, string adapterDirectory, string outputDirectory)
    {
        // Keep the base's stored precision (torch_dtype); the merge itself is computed in float32.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(modelDirectory, "config.json")))!.AsObject();
        var dtype = DTypeNames.FromConfig(config["torch_dtype"]?.GetValue<string>(), ScalarType.Float32);
        var (model, _) = CheckpointLoader.Load(modelDirectory, dtype, CPU);
        using (model)
        {
            LoraAdapter.Load(model, adapterDirectory, trainable: false);
            int merged = LoraAdapter.Merge(model);
            WriteModel(model, modelDirectory, outputDirectory, new SftOptions { DType = dtype });
            return merged;
        }
    }

    private static CausalLM LoadAdapter(CausalLM model, string checkpoint, LoraOptions expected)
    {
        var saved = LoraAdapter.Load(model, checkpoint, trainable: true);
        return saved.Rank == expected.Rank && saved.Alpha == expected.Alpha && saved.Targets.SequenceEqual(expected.Targets) ? model
            : throw new JudgeHostException($"--resume: '{checkpoint}' holds {LoraAdapter.Describe(saved)}, but this run asks for {LoraAdapter.Describe(expected)}.");
    }

    private static void Save(CausalLM model, TorchSharp.Modules.AdamW optimizer, string baseDirectory, string directory, int step, double loss, SftOptions options)
    {
        if (options.Lora is { } lora)
        {
            LoraAdapter.Save(model, lora, directory, Path.GetFullPath(baseDirectory));
        }
        else
        {
            WriteModel(model, baseDirectory, directory, options);
        }

        optimizer.save_state_dict(Path.Combine(directory, OptimizerFile));
        var state = new JsonObject
        {
            ["step"] = step,
            ["loss"] = double.IsFinite(loss) ? loss : null,
            ["seed"] = options.Seed,
            ["learning_rate"] = options.LearningRate,
            ["batch_size"] = options.BatchSize,
            ["gradient_accumulation"] = options.GradientAccumulation,
            ["lora"] = options.Lora is null ? null : LoraAdapter.Describe(options.Lora),
        };
        File.WriteAllText(Path.Combine(directory, StateFile), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void WriteModel(CausalLM model, string baseDirectory, string directory, SftOptions options)
    {
        Directory.CreateDirectory(directory);
        var tensors = model.named_parameters().Select(p => KeyValuePair.Create(p.name, (Tensor)p.parameter.detach())).ToList();
        string temp = Path.Combine(directory, "model.safetensors.tmp");
        SafeTensorsWriter.Write(temp, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.Move(temp, Path.Combine(directory, "model.safetensors"), overwrite: true);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(baseDirectory, "config.json")))!.AsObject();
        config["torch_dtype"] = DTypeNames.Name(options.DType);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        foreach (string name in CopiedFiles)
        {
            string source = Path.Combine(baseDirectory, name);
            if (File.Exists(source) && Path.GetFullPath(source) != Path.GetFullPath(Path.Combine(directory, name)))
            {
                File.Copy(source, Path.Combine(directory, name), overwrite: true);
            }
        }
    }

    private static string? LatestCheckpoint(string outputDirectory) =>
        !Directory.Exists(outputDirectory) ? null
        : Directory.EnumerateDirectories(outputDirectory, "checkpoint-*")
            .Where(d => File.Exists(Path.Combine(d, StateFile)) && File.Exists(Path.Combine(d, OptimizerFile)))
            .Select(d => (dir: d, ok: int.TryParse(Path.GetFileName(d)["checkpoint-".Length..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n), n))
            .Where(x => x.ok)
            .OrderByDescending(x => x.n)
            .Select(x => x.dir)
            .FirstOrDefault();

    private static (int Step, double Loss) ReadState(string checkpoint)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, StateFile)));
        return (doc.RootElement.GetProperty("step").GetInt32(), doc.RootElement.TryGetProperty("loss", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetDouble() : double.NaN);
    }
}

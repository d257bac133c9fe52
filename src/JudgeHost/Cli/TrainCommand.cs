using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Training;
using static TorchSharp.torch;

namespace JudgeHost.Cli;

/// <summary><c>judgehost train sft</c>: supervised fine-tuning on chat JSONL, assistant tokens only.</summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "Base checkpoint directory (config.json, *.safetensors, tokenizer.json).", Required = true };
        var data = new Option<string>("--data") { Description = "Training JSONL: {\"messages\":[{\"role\":...,\"content\":...}]} per line.", Required = true };
        var output = new Option<string>("--out") { Description = "Output directory: the trained model, and checkpoint-N/ folders for --resume.", Required = true };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (AdamW).", DefaultValueFactory = _ => 1e-4 };
        var warmup = new Option<int>("--warmup-steps") { Description = "Linear warm-up steps, then cosine decay to 0.", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the data.", DefaultValueFactory = _ => 1 };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Optimizer steps in all (overrides --epochs)." };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per micro-batch.", DefaultValueFactory = _ => 4 };
        var accumulation = new Option<int>("--grad-accum") { Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => 1 };
        var clip = new Option<double>("--max-grad-norm") { Description = "Gradient-norm clip (0: off).", DefaultValueFactory = _ => 1.0 };
        var decay = new Option<double>("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => 0.0 };
        var seed = new Option<long>("--seed") { Description = "Seed for data order and initialisation of the generator.", DefaultValueFactory = _ => 0 };
        var maxLength = new Option<int>("--max-length") { Description = "Longest sample in tokens (longer ones are refused, not cut).", DefaultValueFactory = _ => 2048 };
        var saveEvery = new Option<int>("--save-every") { Description = "Write checkpoint-N/ every N steps (0: at the end only).", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "float32 or bfloat16.", DefaultValueFactory = _ => "float32" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint-N/ in --out." };
        var loraRank = new Option<int?>("--lora-r") { Description = "Train LoRA adapters of this rank instead of every weight (written in PEFT's layout)." };
        var loraAlpha = new Option<double?>("--lora-alpha") { Description = "LoRA alpha (scale alpha / r; default 2 r)." };
        var loraTargets = new Option<string>("--lora-targets") { Description = "Comma-separated projections to adapt.", DefaultValueFactory = _ => string.Join(',', LoraOptions.AllProjections) };
        var loraDropout = new Option<double>("--lora-dropout") { Description = "Dropout on the adapters' input.", DefaultValueFactory = _ => 0.0 };
        var noGroup = new Option<bool>("--no-group-by-prefix") { Description = "Keep the plain shuffled order instead of grouping samples that begin alike into a micro-batch (whose shared start then runs once)." };
        var tokenWeight = new Option<string[]>("--token-weight") { Description = "TEXT=W: weight the loss on targets that are the single token TEXT by W (repeatable; e.g. \" no=8\" for a rare check mark). The loss is divided by the summed weights.", AllowMultipleArgumentsPerToken = false };
        var mergeLora = new Option<bool>("--merge-lora") { Description = "Also write the base with the trained adapters merged into --out/merged (a plain checkpoint)." };

        var sft = new Command("sft", "Supervised fine-tuning: loss on assistant tokens only, AdamW, warm-up + cosine, accumulation, clipping; writes a Hugging Face model directory.");
        foreach (var option in new Option[] { model, data, output, lr, warmup, epochs, maxSteps, batch, accumulation, clip, decay, seed, maxLength, saveEvery, dtype, resume, loraRank, loraAlpha, loraTargets, loraDropout, mergeLora, noGroup, tokenWeight })
        {
            sft.Options.Add(option);
        }

        sft.SetAction(async (parse, ct) =>
        {
            string modelDir = parse.GetValue(model)!;
            var options = new SftOptions
            {
                LearningRate = parse.GetValue(lr),
                WarmupSteps = parse.GetValue(warmup),
                Epochs = parse.GetValue(epochs),
                MaxSteps = parse.GetValue(maxSteps),
                BatchSize = parse.GetValue(batch),
                GradientAccumulation = parse.GetValue(accumulation),
                MaxGradNorm = parse.GetValue(clip),
                WeightDecay = parse.GetValue(decay),
                Seed = parse.GetValue(seed),
                MaxLength = parse.GetValue(maxLength),
                SaveEvery = parse.GetValue(saveEvery),
                DType = DTypeNames.Parse(parse.GetValue(dtype), "--dtype", ScalarType.Float32, ScalarType.BFloat16),
                Lora = parse.GetValue(loraRank) is { } r
                    ? new LoraOptions(r, parse.GetValue(loraAlpha) ?? 2.0 * r, parse.GetValue(loraTargets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), parse.GetValue(loraDropout))
                    : null,
                MergeLora = parse.GetValue(mergeLora),
                GroupByPrefix = !parse.GetValue(noGroup),
            };
            var tokenizer = HfTokenizer.Load(modelDir);
            options = options with { TokenWeights = TokenWeights(parse.GetValue(tokenWeight), tokenizer) };
            options.Validate();
            manual_seed(options.Seed);
            var template = ChatTemplate.FromTokenizer(tokenizer, DecoderConfig.Load(modelDir).ModelType);
            int[] eos = GenerationConfigFile.EosIds(modelDir, DecoderConfig.Load(modelDir));
            var samples = await SftData.LoadAsync(parse.GetValue(data)!, tokenizer, template, options.MaxLength, eos, ct);
            var writer = parse.InvocationConfiguration.Output;
            int trained = samples.Sum(s => s.Trained.Count(t => t));
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{samples.Count} samples, {samples.Sum(s => s.Ids.Length)} tokens, {trained} trained (assistant) tokens"));
            var result = SftTrainer.Train(modelDir, samples, parse.GetValue(output)!, options, parse.GetValue(resume), step =>
                writer.WriteLine(JsonSerializer.Serialize(new
                {
                    step = step.Step,
                    of = step.TotalSteps,
                    epoch = step.Epoch,
                    loss = Math.Round(step.Loss, 5),
                    lr = step.LearningRate,
                    grad_norm = double.IsFinite(step.GradNorm) ? Math.Round(step.GradNorm, 4) : (double?)null,
                    tokens_per_s = Math.Round(step.TokensPerSecond, 1),
                })), ct);
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"trained {result.Steps} steps (resumed at {result.ResumedFrom}); loss {result.FirstLoss:F4} -> {result.LastLoss:F4}; model: {result.OutputDirectory}"));
            return CliApp.Ok;
        });

        var train = new Command("train", "Train a backbone checkpoint.");
        train.Subcommands.Add(sft);
        train.Subcommands.Add(BuildCurriculum());
        train.Subcommands.Add(BuildTokenizer());
        train.Subcommands.Add(BuildMerge());
        return train;
    }

    // "--token-weight TEXT=W" (the last '=' separates; TEXT may hold spaces) -> token id -> W. TEXT must be one token.
    internal static IReadOnlyDictionary<int, double>? TokenWeights(string[]? specs, HfTokenizer tokenizer)
    {
        if (specs is null || specs.Length == 0)
        {
            return null;
        }

        var weights = new Dictionary<int, double>();
        foreach (string spec in specs)
        {
            int eq = spec.LastIndexOf('=');
            if (eq <= 0 || !double.TryParse(spec[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double w))
            {
                throw new JudgeHostException($"--token-weight '{spec}': expected TEXT=WEIGHT, e.g. \" no=8\".");
            }

            var ids = tokenizer.Encode(spec[..eq]);
            if (ids.Count != 1)
            {
                throw new JudgeHostException($"--token-weight '{spec}': '{spec[..eq]}' is {ids.Count} tokens for this tokenizer; give text that is exactly one token.");
            }

            weights[ids[0]] = w;
        }

        return weights;
    }

    private static Command BuildMerge()
    {
        var model = new Option<string>("--model") { Description = "Base checkpoint directory.", Required = true };
        var adapter = new Option<string>("--adapter") { Description = "PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors).", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for the merged checkpoint.", Required = true };
        var command = new Command("merge-lora", "Merge a LoRA adapter into its base checkpoint (W + alpha/r * B A); writes a plain Hugging Face model directory.");
        foreach (var option in new Option[] { model, adapter, output })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            int merged = SftTrainer.MergeAdapter(parse.GetValue(model)!, parse.GetValue(adapter)!, parse.GetValue(output)!);
            await parse.InvocationConfiguration.Output.WriteLineAsync($"merged {merged} adapted projections: {parse.GetValue(output)}");
            return CliApp.Ok;
        });
        return command;
    }

    private static Command BuildTokenizer()
    {
        var data = new Option<string>("--data") { Description = "SFT JSONL ({\"messages\":[...]}) whose rendered chats are the corpus.", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for tokenizer.json and tokenizer_config.json.", Required = true };
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary size: 256 bytes + merges + 3 ChatML special tokens.", DefaultValueFactory = _ => 1024 };
        var template = new Option<string>("--chat-template") { Description = "Jinja chat template file written into tokenizer_config.json (e.g. tools/tokenizer/templates/qwen2_5_instruct.jinja).", Required = true };
        var preTokenizer = new Option<string>("--pre-tokenizer") { Description = "Split pattern: qwen2 (Qwen2's own) or spaced-digits (Qwen2's, but a number's first digit keeps its leading space).", DefaultValueFactory = _ => "qwen2" };
        var command = new Command("tokenizer", "Train a small byte-level BPE tokenizer (Qwen2 pre-tokenizer, ChatML specials) on rendered chats; writes Hugging Face tokenizer files.");
        foreach (var option in new Option[] { data, output, vocab, template, preTokenizer })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            string pattern = BpeTrainer.PatternNamed(parse.GetValue(preTokenizer)!);
            string templateText = await File.ReadAllTextAsync(parse.GetValue(template)!, ct);
            var format = ChatTemplate.Detect(templateText)
                ?? throw new JudgeHostException($"'{parse.GetValue(template)}' is not a chat template JudgeHost renders (ChatML or Llama 3).");
            var renderer = ChatTemplate.ForFormat(format);
            var corpus = new List<string>();
            await foreach (var (line, text) in Store.JsonlReader.ReadLinesAsync(parse.GetValue(data)!, ct))
            {
                try
                {
                    using var doc = JsonDocument.Parse(text);
                    var messages = doc.RootElement.GetProperty("messages").EnumerateArray()
                        .Select(m => new ChatMessage(m.GetProperty("role").GetString() ?? "", m.GetProperty("content").GetString() ?? "")).ToList();
                    corpus.Add(renderer.Render(messages, addGenerationPrompt: false));
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    throw new JudgeHostException($"'{parse.GetValue(data)}' line {line}: not an SFT sample ({e.Message}).", e);
                }
            }

            int size = BpeTrainer.Write(parse.GetValue(output)!, corpus, parse.GetValue(vocab), templateText, pattern);
            await parse.InvocationConfiguration.Output.WriteLineAsync($"tokenizer with {size} tokens from {corpus.Count} chats: {parse.GetValue(output)}");
            return CliApp.Ok;
        });
        return command;
    }

    private static Command BuildCurriculum()
    {
        var output = new Option<string>("--out") { Description = "Directory for train.jsonl (SFT), train-requests.jsonl and test-requests.jsonl (judge requests with labels).", Required = true };
        var trainCount = new Option<int>("--train") { Description = "Training items.", DefaultValueFactory = _ => 2000 };
        var testCount = new Option<int>("--test") { Description = "Held-out items (questions disjoint from training).", DefaultValueFactory = _ => 200 };
        var seed = new Option<long>("--seed") { Description = "Generator seed.", DefaultValueFactory = _ => 0 };
        var bestOfN = new Option<int>("--best-of-n") { Description = "Held-out best-of-n prompts to write (4 noisy candidates each, labelled with the correct ones).", DefaultValueFactory = _ => 100 };
        var command = new Command("curriculum", "Write the seeded synthetic judging curriculum (checkable verdicts in all four formats) as SFT JSONL, labelled judge requests and labelled best-of-n prompts.");
        foreach (var option in new Option[] { output, trainCount, testCount, seed, bestOfN })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            string dir = parse.GetValue(output)!;
            Directory.CreateDirectory(dir);
            var train = Curriculum.Generate(parse.GetValue(trainCount), parse.GetValue(seed), heldOut: false);
            var test = Curriculum.Generate(parse.GetValue(testCount), parse.GetValue(seed), heldOut: true);
            await File.WriteAllLinesAsync(Path.Combine(dir, "train.jsonl"), train.Select(Curriculum.SftLine), ct);
            await File.WriteAllLinesAsync(Path.Combine(dir, "train-requests.jsonl"), train.Select(Curriculum.RequestLine), ct);
            await File.WriteAllLinesAsync(Path.Combine(dir, "test-requests.jsonl"), test.Select(Curriculum.RequestLine), ct);
            var prompts = Curriculum.BestOfNPrompts(parse.GetValue(bestOfN), parse.GetValue(seed));
            await File.WriteAllLinesAsync(Path.Combine(dir, "test-bestofn.jsonl"), prompts, ct);
            await parse.InvocationConfiguration.Output.WriteLineAsync($"{train.Count} training items, {test.Count} held-out items, {prompts.Count} held-out best-of-n prompts: {dir}");
            return CliApp.Ok;
        });
        return command;
    }
}

using System.CommandLine;
using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using TorchSharp;

namespace JudgeHost.Cli;

/// <summary><c>inspect logits</c>, <c>generate</c> and <c>tools make-tiny</c>: run a text checkpoint.</summary>
public static class ModelCommands
{
    private static readonly Option<string> Model = new("--model") { Description = "Hugging Face model directory.", Required = true };
    private static readonly Option<string?> Ids = new("--ids") { Description = "Comma-separated token ids." };
    private static readonly Option<string?> Out = new("--out") { Description = "Output .safetensors file.", };
    private static readonly Option<string?> DTypeOption = new("--dtype") { Description = "float32 or bfloat16." };
    private static readonly Option<int> MaxNewTokens = new("--max-new-tokens") { Description = "Tokens to generate.", DefaultValueFactory = _ => 64 };
    private static readonly Option<float> Temperature = new("--temperature") { Description = "0 = greedy.", DefaultValueFactory = _ => 0f };
    private static readonly Option<float> TopP = new("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => 1f };
    private static readonly Option<int> TopK = new("--top-k") { Description = "Top-k sampling (0 = off).", DefaultValueFactory = _ => 0 };
    private static readonly Option<long?> Seed = new("--seed") { Description = "Sampling seed." };
    private static readonly Option<bool> IgnoreEos = new("--ignore-eos") { Description = "Do not stop at the eos ids." };
    private static readonly Option<string?> Prompt = new("--prompt") { Description = "Prompt text (needs tokenizer.json)." };
    private static readonly Option<bool> Chat = new("--chat") { Description = "Wrap --prompt as a user turn with the checkpoint's chat template and generation prompt." };
    private static readonly Option<string?> Text = new("--text") { Description = "Text to tokenize." };
    private static readonly Option<string[]> Images = new("--image") { Description = "Image file placed before the prompt (repeatable; needs --prompt and a vision checkpoint with its plugin)." };
    private static readonly Option<string[]> Videos = new("--video") { Description = "Video file placed before the prompt (repeatable)." };
    private static readonly Option<string[]> Audios = new("--audio") { Description = "Audio file placed before the prompt, after images and videos (repeatable; needs a Qwen2.5-Omni checkpoint and the audio plugin)." };
    private static readonly Option<string[]> Smiles = new("--smiles") { Description = "Molecule (SMILES) for a <mol> in --prompt, in order, or placed before it (repeatable; a mol_llama checkpoint)." };
    private static readonly Option<string?> TextFile = new("--text-file") { Description = "UTF-8 file whose whole content is tokenized." };

    public static Command BuildLogits()
    {
        var logits = new Command("logits", "Write float32 logits [T, vocab] of every position for --ids to --out.");
        foreach (var o in new Option[] { Model, Ids, Out, DTypeOption })
        {
            logits.Options.Add(o);
        }

        logits.Options.Add(Prompt);
        logits.Options.Add(Chat);
        logits.Options.Add(Images);
        logits.Options.Add(Videos);
        logits.Options.Add(Audios);
        logits.Options.Add(Smiles);
        logits.SetAction((parse, ct) =>
        {
            string outPath = parse.GetValue(Out) ?? throw new JudgeHostException("Give --out PATH.safetensors.");
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), parse.InvocationConfiguration.Error);
            using var model = LoadTextModel(parse, app, parse.GetValue(Model)!, parse.GetValue(DTypeOption) ?? "float32");
            using var scope = torch.NewDisposeScope();
            var input = BuildInput(parse, app, model, ct);
            using var values = model.Generator.AllLogits(input);
            SafeTensorsWriter.Write(outPath, [new("logits", values)]);
            parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
            {
                @out = outPath, shape = values.shape, load_gb_per_s = Math.Round(model.Report.GigabytesPerSecond, 3),
            }));
            return Task.FromResult(CliApp.Ok);
        });
        return logits;
    }

    public static Command BuildGenerate()
    {
        var generate = new Command("generate", "Generate a continuation of --ids; prints {\"ids\":[new ids],\"text\":...}.");
        foreach (var o in new Option[] { Model, Ids, DTypeOption, MaxNewTokens, Temperature, TopP, TopK, Seed, IgnoreEos })
        {
            generate.Options.Add(o);
        }

        generate.Options.Add(Prompt);
        generate.Options.Add(Chat);
        generate.Options.Add(Images);
        generate.Options.Add(Videos);
        generate.Options.Add(Audios);
        generate.Options.Add(Smiles);
        generate.SetAction((parse, ct) =>
        {
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), parse.InvocationConfiguration.Error);
            using var model = LoadTextModel(parse, app, parse.GetValue(Model)!, parse.GetValue(DTypeOption) ?? "bfloat16");
            using var scope = torch.NewDisposeScope();
            var input = BuildInput(parse, app, model, ct);
            var sampling = new SamplingOptions(parse.GetValue(Temperature), parse.GetValue(TopP), parse.GetValue(TopK), parse.GetValue(Seed));
            sampling.Validate();
            int[] eos = parse.GetValue(IgnoreEos) ? [] : model.EosIds;
            var result = model.Generator.Generate([input], parse.GetValue(MaxNewTokens), sampling, eos)[0];
            string? decoded = model.Tokenizer?.Decode(result.FinishReason == "stop" ? result.Tokens.Take(result.Tokens.Count - 1) : result.Tokens, skipSpecialTokens: false);
            parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new { ids = result.Tokens, text = decoded, finish_reason = result.FinishReason }));
            return Task.FromResult(CliApp.Ok);
        });
        return generate;
    }

    public static Command BuildTokenize()
    {
        var tokenize = new Command("tokenize", "Print {\"ids\":[...]} for --text or --text-file with the checkpoint's tokenizer (no special tokens added).");
        foreach (var o in new Option[] { Model, Text, TextFile })
        {
            tokenize.Options.Add(o);
        }

        tokenize.SetAction((parse, ct) =>
        {
            string? text = parse.GetValue(Text);
            string? file = parse.GetValue(TextFile);
            if ((text is null) == (file is null))
            {
                throw new JudgeHostException("Give exactly one of --text and --text-file.");
            }

            if (file is not null && !File.Exists(file))
            {
                throw new JudgeHostException($"Text file '{file}' does not exist.");
            }

            var tokenizer = HfTokenizer.Load(parse.GetValue(Model)!);
            var ids = tokenizer.Encode(text ?? File.ReadAllText(file!, System.Text.Encoding.UTF8));
            parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new { ids }));
            return Task.FromResult(CliApp.Ok);
        });
        return tokenize;
    }

    public static Command BuildTools()
    {
        var family = new Option<string>("--family") { Description = "qwen2, llama, qwen2_5_vl or qwen2_5_omni (Qwen2.5-Omni thinker with audio and vision towers; both need --tokenizer) or mol_llama (Mol-LLaMA: molecule encoder, Q-Former, projector and Llama with LoRA; --tokenizer optional).", Required = true };
        var outDir = new Option<string>("--out") { Description = "Directory to write.", Required = true };
        var tied = new Option<bool?>("--tied") { Description = "Tie lm_head to the embedding (default: qwen2 yes, llama no)." };
        var seed = new Option<long>("--seed") { Description = "Weight seed.", DefaultValueFactory = _ => 0 };
        var size = new Option<string>("--size") { Description = "tiny (2 layers, hidden 64) or qwen2-0.5b (benchmark shape).", DefaultValueFactory = _ => "tiny" };
        var tokenizerDir = new Option<string?>("--tokenizer") { Description = "Folder with tokenizer.json (+ tokenizer_config.json): copied, and the vocabulary sized to it." };
        var hidden = new Option<int?>("--hidden") { Description = "hidden_size (overrides --size)." };
        var layers = new Option<int?>("--layers") { Description = "num_hidden_layers (overrides --size)." };
        var heads = new Option<int?>("--heads") { Description = "num_attention_heads (overrides --size)." };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "num_key_value_heads (overrides --size)." };
        var intermediate = new Option<int?>("--intermediate") { Description = "intermediate_size (overrides --size)." };
        var init = new Option<string>("--init") { Description = "test: wide random weights that exercise every term (parity tests); hf: transformers' initialisation N(0, 0.02), norms 1, biases 0 (a model to train).", DefaultValueFactory = _ => "test" };
        var makeTiny = new Command("make-tiny", "Write a random-weight checkpoint in the exact Hugging Face layout.");
        foreach (var o in new Option[] { family, outDir, tied, seed, size, tokenizerDir, hidden, layers, heads, kvHeads, intermediate, init })
        {
            makeTiny.Options.Add(o);
        }

        makeTiny.SetAction((parse, ct) =>
        {
            var shape = parse.GetValue(size) switch
            {
                "tiny" => new TinyCheckpoint.Shape(),
                "qwen2-0.5b" => TinyCheckpoint.Qwen2HalfB,
                var other => throw new JudgeHostException($"Unknown --size '{other}'. Use tiny or qwen2-0.5b."),
            };
            shape = shape with
            {
                Hidden = parse.GetValue(hidden) ?? shape.Hidden,
                Layers = parse.GetValue(layers) ?? shape.Layers,
                Heads = parse.GetValue(heads) ?? shape.Heads,
                KvHeads = parse.GetValue(kvHeads) ?? shape.KvHeads,
                Intermediate = parse.GetValue(intermediate) ?? shape.Intermediate,
                InitializerRange = parse.GetValue(init) switch
                {
                    "test" => null,
                    "hf" => 0.02,
                    var other => throw new JudgeHostException($"Unknown --init '{other}'. Use test or hf."),
                },
            };
            if (shape.Hidden < 1 || shape.Layers < 1 || shape.Heads < 1 || shape.KvHeads < 1 || shape.Intermediate < 1 || shape.Hidden % shape.Heads != 0 || shape.Heads % shape.KvHeads != 0)
            {
                throw new JudgeHostException($"Invalid shape (hidden {shape.Hidden}, layers {shape.Layers}, heads {shape.Heads}, kv heads {shape.KvHeads}, intermediate {shape.Intermediate}): all >= 1, hidden divisible by heads, heads by kv heads.");
            }

            if (parse.GetValue(family) == "mol_llama")
            {
                TinyMolLlamaCheckpoint.Write(parse.GetValue(outDir)!, shape, tokenizerDirectory: parse.GetValue(tokenizerDir), seed: parse.GetValue(seed));
            }
            else if (parse.GetValue(family) == "qwen2_5_omni")
            {
                TinyOmniCheckpoint.Write(parse.GetValue(outDir)!, parse.GetValue(tokenizerDir)
                    ?? throw new JudgeHostException("A qwen2_5_omni tiny checkpoint needs --tokenizer (a Qwen tokenizer; its special tokens are renamed to the Omni ones)."), parse.GetValue(seed));
            }
            else if (parse.GetValue(family) == "qwen2_5_vl")
            {
                TinyVisionCheckpoint.Write(parse.GetValue(outDir)!, parse.GetValue(tokenizerDir)
                    ?? throw new JudgeHostException("A qwen2_5_vl tiny checkpoint needs --tokenizer (a Qwen tokenizer with the vision tokens)."), parse.GetValue(seed));
            }
            else if (parse.GetValue(tokenizerDir) is { } tok)
            {
                TinyCheckpoint.WriteWithTokenizer(parse.GetValue(outDir)!, parse.GetValue(family)!, shape, tok, parse.GetValue(tied), parse.GetValue(seed));
            }
            else
            {
                TinyCheckpoint.Write(parse.GetValue(outDir)!, parse.GetValue(family)!, shape, parse.GetValue(tied), parse.GetValue(seed));
            }

            parse.InvocationConfiguration.Output.WriteLine(parse.GetValue(outDir));
            return Task.FromResult(CliApp.Ok);
        });
        var tools = new Command("tools", "Developer tools.");
        tools.Subcommands.Add(makeTiny);
        tools.Subcommands.Add(BuildConvert());
        tools.Subcommands.Add(ImportJudgeCommand.Build());
        return tools;
    }

    private static Command BuildConvert()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model directory to convert.", Required = true };
        var outDir = new Option<string>("--out") { Description = "Directory to write.", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "float32, bfloat16 or float16: how floating-point tensors are stored.", Required = true };
        var convert = new Command("convert", "Store a checkpoint's floating-point tensors in another dtype (names, shapes, other files kept).");
        foreach (var o in new Option[] { model, outDir, dtype })
        {
            convert.Options.Add(o);
        }

        convert.SetAction((parse, ct) =>
        {
            var target = DTypeNames.Parse(parse.GetValue(dtype), "--dtype", torch.ScalarType.Float32, torch.ScalarType.BFloat16, torch.ScalarType.Float16);
            int n = CheckpointConverter.Convert(parse.GetValue(model)!, parse.GetValue(outDir)!, target);
            parse.InvocationConfiguration.Output.WriteLine($"{n} tensor(s) stored as {parse.GetValue(dtype)}: {parse.GetValue(outDir)}");
            return Task.FromResult(CliApp.Ok);
        });
        return convert;
    }

    internal static int[] ParseIds(string text)
    {
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray() is { Length: > 0 } ids
                ? ids
                : throw new JudgeHostException("--ids is empty; give comma-separated token ids, e.g. --ids 1,2,3.");
        }
        catch (FormatException)
        {
            throw new JudgeHostException($"--ids '{text}' is not a comma-separated list of integers, e.g. --ids 1,2,3.");
        }
        catch (OverflowException)
        {
            throw new JudgeHostException($"--ids '{text}' holds a number out of range.");
        }
    }

    private static void CheckIds(int[] ids, DecoderConfig config)
    {
        int bad = Array.FindIndex(ids, i => i < 0 || i >= config.VocabSize);
        if (bad >= 0)
        {
            throw new JudgeHostException($"Token id {ids[bad]} (position {bad}) is outside the vocabulary [0, {config.VocabSize}).");
        }
    }

    // --ids, or --prompt [--chat] with media placed before the prompt text (as the Qwen2.5-VL chat template does), and
    // molecules at the prompt's <mol> runs.
    private static SequenceInput BuildInput(ParseResult parse, JudgeHostApp app, TextModel model, CancellationToken ct)
    {
        string? idsText = parse.GetValue(Ids);
        string? prompt = parse.GetValue(Prompt);
        if ((idsText is null) == (prompt is null))
        {
            throw new JudgeHostException("Give exactly one of --ids and --prompt.");
        }

        var items = (parse.GetValue(Images) ?? []).Select(p => MediaItem.FromFile("image", p))
            .Concat((parse.GetValue(Videos) ?? []).Select(p => MediaItem.FromFile("video", p)))
            .Concat((parse.GetValue(Audios) ?? []).Select(p => MediaItem.FromFile("audio", p)))
            .Concat((parse.GetValue(Smiles) ?? []).Select(v => new MediaItem("molecule", null, v, new Dictionary<string, string>()))).ToArray();
        if (idsText is not null)
        {
            if (items.Length > 0)
            {
                throw new JudgeHostException("--image, --video, --audio and --smiles need --prompt (the placeholders are placed in the prompt text).");
            }

            int[] ids = ParseIds(idsText);
            CheckIds(ids, model.Model.Config);
            return SequenceInput.FromTokens(ids);
        }

        var tokenizer = model.RequireTokenizer();
        bool chat = parse.GetValue(Chat);
        // Molecules go where the prompt writes <mol> (Mol-LLaMA style); other items before the prompt text.
        var (placed, others) = JudgeHost.Judging.MediaPlacement.Place(prompt!, items.Select(i => i.Modality).ToArray(), "--prompt", "");
        string user = others + placed;
        string text = chat ? model.RequireTemplate().Render([new ChatMessage("user", user)], addGenerationPrompt: true) : user;
        if (items.Length == 0)
        {
            int[] ids = [.. tokenizer.Encode(text, addSpecialTokens: !chat)];
            CheckIds(ids, model.Model.Config);
            return SequenceInput.FromTokens(ids);
        }

        var resolver = new JudgeHost.Plugins.EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog);
        var media = new JudgeHost.Judging.MediaEncoders(resolver, model.Directory, model.Model, app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>());
        try
        {
            // The encoded tensors join the caller's dispose scope; the encoders (and their weights) are released here.
            var encoded = items.Select(item => media.Encode(item, ct)).ToArray();
            return media.Splice(text, items, encoded, tokenizer);
        }
        finally
        {
            media.Dispose();
        }
    }

    internal static TextModel LoadTextModel(ParseResult parse, JudgeHostApp app, string directory, string dtypeName)
    {
        var (dtype, device) = Placement(parse, app, dtypeName);
        return TextModel.Load(directory, dtype, device);
    }

    private static (torch.ScalarType, torch.Device) Placement(ParseResult parse, JudgeHostApp app, string dtypeName)
    {
        var dtype = DTypeNames.Parse(dtypeName, "--dtype", torch.ScalarType.Float32, torch.ScalarType.BFloat16);
        string deviceSpec = parse.GetValue(GlobalOptions.Device) ?? app.Configuration[$"{TorchOptions.Section}:Device"] ?? "cpu";
        return (dtype, TorchRuntime.ResolveDevice(deviceSpec));
    }
}

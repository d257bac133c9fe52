using System.CommandLine;
using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Hosting;
using JudgeHost.Plugins;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace JudgeHost.Cli;

/// <summary><c>judgehost inspect …</c>: commands that show what the host and its plugins compute.</summary>
public static class InspectCommand
{
    private static readonly Option<string?> Modality = new("--modality") { Description = "Modality name, e.g. image (required unless --smiles is given)." };
    private static readonly Option<string?> EncodeSmiles = new("--smiles") { Description = "A molecule as SMILES: short for --modality molecule --value S." };
    private static readonly Option<string?> MediaPath = new("--path") { Description = "Media file." };
    private static readonly Option<string?> Value = new("--value") { Description = "Inline media value (e.g. a SMILES string or a CSV series)." };
    private static readonly Option<string[]> Attributes = new("--attr") { Description = "Per-item setting key=value (repeatable).", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string?> Model = new("--model") { Description = "Hugging Face model directory whose weights and hidden size the encoder uses." };
    private static readonly Option<int> Hidden = new("--hidden") { Description = "Hidden size when no --model is given.", DefaultValueFactory = _ => 64 };
    private static readonly Option<string?> Out = new("--out") { Description = "Write the embeddings as a float32 tensor 'embeddings' to this .safetensors file." };

    public static Command Build()
    {
        var encode = new Command("encode", "Run a modality plugin's encoder on one item and print the embedding shape and position layout.");
        foreach (var o in new Option[] { Modality, MediaPath, Value, EncodeSmiles, Attributes, Model, Hidden, Out })
        {
            encode.Options.Add(o);
        }

        encode.SetAction((parse, ct) =>
        {
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), parse.InvocationConfiguration.Error);
            var item = ToItem(parse);
            using var scope = torch.NewDisposeScope();
            var report = Encode(app, item, parse.GetValue(Model), parse.GetValue(Hidden), parse.GetValue(Out), ct);
            parse.InvocationConfiguration.Output.WriteLine(report);
            return Task.FromResult(CliApp.Ok);
        });

        var image = new Option<string?>("--image") { Description = "Image file." };
        var video = new Option<string?>("--video") { Description = "Video file." };
        var preprocess = new Command("preprocess", "Write a plugin's preprocessing of one item (e.g. float32 pixel_values [N, 1176], int64 image_grid_thw [1, 3]) to --out.");
        foreach (var o in new Option[] { Model, image, video, Attributes, Out })
        {
            preprocess.Options.Add(o);
        }

        preprocess.SetAction((parse, ct) =>
        {
            string modelDir = parse.GetValue(Model) ?? throw new JudgeHostException("Give --model DIR: preprocessing follows the checkpoint's preprocessor_config.json.");
            string outPath = parse.GetValue(Out) ?? throw new JudgeHostException("Give --out PATH.safetensors.");
            (string modality, string? path) = (parse.GetValue(image), parse.GetValue(video)) switch
            {
                ({ } i, null) => ("image", i),
                (null, { } v) => ("video", v),
                _ => throw new JudgeHostException("Give exactly one of --image and --video."),
            };
            var attributes = ToItem(parse, modality, path).Attributes;
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), parse.InvocationConfiguration.Error);
            var resolver = new EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog);
            using var encoders = new JudgeHost.Judging.MediaEncoders(resolver, modelDir, DecoderConfig.Load(modelDir), torch.ScalarType.Float32, torch.CPU, app.Services.GetRequiredService<ILoggerFactory>());
            var tensors = encoders.Preprocess(new MediaItem(modality, path, null, attributes));
            try
            {
                SafeTensorsWriter.Write(outPath, tensors);
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    @out = outPath,
                    tensors = tensors.ToDictionary(t => t.Key, t => new { dtype = t.Value.dtype.ToString(), shape = t.Value.shape }),
                }));
            }
            finally
            {
                foreach (var t in tensors.Values)
                {
                    t.Dispose();
                }
            }

            return Task.FromResult(CliApp.Ok);
        });

        var inspect = new Command("inspect", "Show what the host and its plugins compute.");
        inspect.Subcommands.Add(encode);
        inspect.Subcommands.Add(preprocess);
        inspect.Subcommands.Add(BuildMolecule());
        inspect.Subcommands.Add(BuildMel());
        inspect.Subcommands.Add(ModelCommands.BuildLogits());
        inspect.Subcommands.Add(ModelCommands.BuildTokenize());
        return inspect;
    }

    /// <summary>
    /// <c>inspect mel --audio PATH --out F.safetensors [--model DIR]</c>: the audio plugin's preprocessing (Whisper log-mel
    /// <c>input_features</c> and <c>feature_attention_mask</c>) without loading any weights. With --model the checkpoint's
    /// family and preprocessor_config.json are used; without, Qwen2.5-Omni's.
    /// </summary>
    private static Command BuildMel()
    {
        var audio = new Option<string>("--audio") { Description = "Audio file (WAV in-process; MP3, FLAC, Ogg, M4A through ffmpeg).", Required = true };
        var mel = new Command("mel", "Write the audio plugin's log-mel features (float32 input_features [128, 3000], int64 feature_attention_mask [3000]) to --out.");
        foreach (var o in new Option[] { audio, Model, Out })
        {
            mel.Options.Add(o);
        }

        mel.SetAction((parse, ct) =>
        {
            string outPath = parse.GetValue(Out) ?? throw new JudgeHostException("Give --out PATH.safetensors.");
            string? modelDir = parse.GetValue(Model);
            var item = MediaItem.FromFile("audio", parse.GetValue(audio)!);
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), parse.InvocationConfiguration.Error);
            var config = modelDir is null ? JsonDocument.Parse("{}").RootElement.Clone() : ModelConfigFile.Read(modelDir);
            string family = modelDir is null ? "qwen2_5_omni" : ModelConfigFile.ModelType(config, modelDir);
            var factory = new EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog).Resolve("audio", family);
            using var encoder = factory.Create(new EncoderContext
            {
                Family = family,
                Config = config,
                HiddenSize = 1,
                Device = torch.CPU,
                DType = torch.ScalarType.Float32,
                Weights = new EmptyWeightSource("inspect mel reads no weights"),
                ModelDirectory = modelDir ?? "",
                Logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(factory.GetType().FullName ?? "audio"),
            });
            var preprocessor = encoder as IMediaPreprocessor
                ?? throw new PluginLoadException("The audio plugin does not expose its preprocessing (IMediaPreprocessor).");
            var tensors = preprocessor.Preprocess(item);
            try
            {
                SafeTensorsWriter.Write(outPath, tensors);
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    @out = outPath,
                    tensors = tensors.ToDictionary(t => t.Key, t => new { dtype = t.Value.dtype.ToString(), shape = t.Value.shape }),
                    valid_frames = tensors.TryGetValue("feature_attention_mask", out var mask) ? mask.sum().item<long>() : 0,
                }));
            }
            finally
            {
                foreach (var t in tensors.Values)
                {
                    t.Dispose();
                }
            }

            return Task.FromResult(CliApp.Ok);
        });
        return mel;
    }

    private static Command BuildMolecule()
    {
        var smiles = new Option<string?>("--smiles") { Description = "SMILES string." };
        var file = new Option<string?>("--file") { Description = "MOL or SDF file with 3-D coordinates." };
        var outJson = new Option<string?>("--out") { Description = "Write the JSON here instead of standard output." };
        var molecule = new Command("molecule", "The molecule plugin's preprocessing of one molecule as JSON: atoms, bonds, OGB 2-D features, edge index, UniMol tokens, coordinates.");
        foreach (var o in new Option[] { smiles, file, Attributes, outJson })
        {
            molecule.Options.Add(o);
        }

        molecule.SetAction((parse, ct) =>
        {
            var (value, path) = (parse.GetValue(smiles), parse.GetValue(file)) switch
            {
                ({ } s, null) => (s, (string?)null),
                (null, { } f) => ((string?)null, f),
                _ => throw new JudgeHostException("Give exactly one of --smiles and --file."),
            };
            var item = ToItem(parse, "molecule", path, value);
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), parse.InvocationConfiguration.Error);
            var resolver = new EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog);
            var preprocessor = resolver.Resolve("molecule", "mol_llama") as IMediaPreprocessor
                ?? throw new PluginLoadException("The molecule plugin does not expose its preprocessing (IMediaPreprocessor).");
            var tensors = preprocessor.Preprocess(item);
            try
            {
                string json = MoleculeReport.ToJson(item, tensors);
                if (parse.GetValue(outJson) is { } outPath)
                {
                    File.WriteAllText(outPath, json);
                    parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new { @out = outPath, atoms = tensors["node_feat"].shape[0], tokens = tensors["src_tokens"].shape[0] }));
                }
                else
                {
                    parse.InvocationConfiguration.Output.WriteLine(json);
                }
            }
            finally
            {
                foreach (var t in tensors.Values)
                {
                    t.Dispose();
                }
            }

            return Task.FromResult(CliApp.Ok);
        });
        return molecule;
    }

    private static MediaItem ToItem(ParseResult parse)
    {
        string? path = parse.GetValue(MediaPath);
        string? value = parse.GetValue(Value);
        string? modality = parse.GetValue(Modality);
        if (parse.GetValue(EncodeSmiles) is { } smiles)
        {
            if (path is not null || value is not null || modality is not (null or "molecule"))
            {
                throw new JudgeHostException("--smiles is the molecule itself; give it without --path, --value or another --modality.");
            }

            return ToItem(parse, "molecule", null, smiles);
        }

        if (modality is null)
        {
            throw new JudgeHostException("Give --modality M with --path or --value (or --smiles S for a molecule).");
        }

        if ((path is null) == (value is null))
        {
            throw new JudgeHostException("Give exactly one of --path and --value.");
        }

        return ToItem(parse, modality, path, value);
    }

    private static MediaItem ToItem(ParseResult parse, string modality, string? path, string? value = null)
    {
        var attributes = new Dictionary<string, string>();
        foreach (string kv in parse.GetValue(Attributes) ?? [])
        {
            int eq = kv.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new JudgeHostException($"--attr '{kv}' is not key=value.");
            }

            attributes[kv[..eq]] = kv[(eq + 1)..];
        }

        return new MediaItem(modality, path, value, attributes);
    }

    private static string Encode(JudgeHostApp app, MediaItem item, string? modelDir, int hidden, string? outPath, CancellationToken ct)
    {
        var resolver = new EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog);
        CheckpointFiles? files = null;
        try
        {
            JsonElement config;
            string family;
            if (modelDir is not null)
            {
                config = ModelConfigFile.Read(modelDir);
                family = ModelConfigFile.ModelType(config, modelDir);
                hidden = ModelConfigFile.HiddenSize(config, modelDir);
                files = CheckpointFiles.Open(modelDir);
            }
            else
            {
                config = JsonDocument.Parse("{}").RootElement.Clone();
                family = "none";
            }

            var factory = resolver.Resolve(item.Modality, family);
            var context = new EncoderContext
            {
                Family = family,
                Config = config,
                HiddenSize = hidden,
                Device = torch.CPU,
                DType = torch.ScalarType.Float32,
                Weights = files?.WithPrefix(factory.WeightPrefix) ?? new EmptyWeightSource("no --model was given"),
                ModelDirectory = modelDir ?? "",
                Logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(factory.GetType().FullName ?? "plugin"),
            };
            using var encoder = factory.Create(context);
            using var encoded = encoder.Encode(item, ct);
            if (encoded.Embeddings.shape[1] != hidden)
            {
                throw new PluginLoadException($"The {item.Modality} encoder returned {encoded.Embeddings.shape[1]} columns; the model's hidden size is {hidden}. The plugin is broken.");
            }

            if (outPath is not null)
            {
                SafeTensorsWriter.Write(outPath, [new("embeddings", encoded.Embeddings.to(torch.ScalarType.Float32))]);
            }

            return JsonSerializer.Serialize(new
            {
                modality = item.Modality,
                item = item.Describe(),
                tokens = encoded.TokenCount,
                hidden = encoded.Embeddings.shape[1],
                layout = encoded.Layout switch
                {
                    PositionLayout.Grid g => (object)new { kind = "grid", t = g.Temporal, h = g.Height, w = g.Width, seconds_per_step = g.SecondsPerTemporalStep },
                    PositionLayout.Sequence s => new { kind = "sequence", length = s.Length },
                    _ => new { kind = "unknown" },
                },
                mean = encoded.Embeddings.to(torch.ScalarType.Float64).mean().item<double>(),
            });
        }
        finally
        {
            files?.Dispose();
        }
    }
}

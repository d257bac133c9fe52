using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Plugins;
using Microsoft.Extensions.Logging;

namespace JudgeHost.Judging;

/// <summary>
/// The modality encoders of one loaded model: resolves each item's plugin for the checkpoint family, creates its
/// encoder once (weights read through a prefix-scoped weight source over the checkpoint), and says how the family
/// frames each modality in text (Qwen2-VL vision tokens, Qwen2.5-Omni audio and vision tokens, M-RoPE with the
/// family's temporal positions per second, Mol-LLaMA's &lt;mol&gt; runs, or plain 1-D runs).
/// </summary>
public sealed class MediaEncoders : IDisposable
{
    private readonly EncoderResolver _resolver;
    private readonly CheckpointFiles _files;
    private readonly JsonElement _config;
    private readonly DecoderConfig _decoder;
    private readonly TorchSharp.torch.ScalarType _dtype;
    private readonly TorchSharp.torch.Device _device;
    private readonly string _directory;
    private readonly ILoggerFactory _loggers;
    private readonly Dictionary<IModalityEncoderFactory, IModalityEncoder> _encoders = [];

    public MediaEncoders(EncoderResolver resolver, string modelDirectory, CausalLM model, ILoggerFactory loggers)
        : this(resolver, modelDirectory, model.Config, model.DType, model.Device, loggers)
    {
    }

    /// <summary>Encoders for a model that is not loaded (preprocessing inspection needs only its config).</summary>
    public MediaEncoders(EncoderResolver resolver, string modelDirectory, DecoderConfig decoder, TorchSharp.torch.ScalarType dtype, TorchSharp.torch.Device device, ILoggerFactory loggers)
    {
        _resolver = resolver;
        _directory = modelDirectory;
        _decoder = decoder;
        _dtype = dtype;
        _device = device;
        _loggers = loggers;
        _config = ModelConfigFile.Read(modelDirectory);
        _files = CheckpointFiles.Open(modelDirectory);
        Family = decoder.ModelType;
        UsesMrope = decoder.RopeScaling?.MropeSection is { Length: 3 };
        TokensPerSecond = TemporalPositionsPerSecond(_config, Family);
        Modalities = resolver.Factories
            .Where(f => f.Families.Count == 0 || f.Families.Contains(Family, StringComparer.OrdinalIgnoreCase))
            .Select(f => f.Modality).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    public string Family { get; }

    public bool UsesMrope { get; }

    /// <summary>
    /// M-RoPE temporal positions per second of media: Qwen2.5-VL's <c>vision_config.tokens_per_second</c> (2),
    /// Qwen2.5-Omni's <c>thinker_config.position_id_per_seconds</c> (25; one audio token is 40 ms).
    /// </summary>
    public double TokensPerSecond { get; }

    /// <summary>The family's placeholder token that only media may occupy (Mol-LLaMA's <c>&lt;mol&gt;</c>); null for others.</summary>
    public string? Placeholder => Family == MolLlamaConfig.ModelType ? MediaFraming.MolLlama.Placeholder : null;

    /// <summary>
    /// The text around one item of <paramref name="modality"/> in this family's prompts: Qwen2-VL vision start/end
    /// tokens, Qwen2.5-Omni <c>&lt;|audio_bos|&gt;</c>/<c>&lt;|audio_eos|&gt;</c> for audio and
    /// <c>&lt;|vision_bos|&gt;</c>/<c>&lt;|vision_eos|&gt;</c> for images and videos, Mol-LLaMA's bare <c>&lt;mol&gt;</c> runs;
    /// nothing for other families.
    /// </summary>
    public MediaFraming FramingFor(string modality) => (Family, modality.ToLowerInvariant()) switch
    {
        ("qwen2_vl" or "qwen2_5_vl", "image" or "video") => MediaFraming.Qwen2VL,
        ("qwen2_5_omni", "audio") => MediaFraming.Qwen25OmniAudio,
        ("qwen2_5_omni", "image" or "video") => MediaFraming.Qwen25OmniVision,
        (MolLlamaConfig.ModelType, _) => MediaFraming.MolLlama,
        _ => MediaFraming.None,
    };

    /// <summary>
    /// Prompt text with media markers plus the items' encodings as one input sequence: each item framed for its
    /// modality, embeddings in place of the placeholder run, M-RoPE positions when the model uses them.
    /// </summary>
    public SequenceInput Splice(string text, IReadOnlyList<MediaItem> items, IReadOnlyList<EncodedMedia> encoded, HfTokenizer tokenizer) =>
        MediaSplicer.Build(text, encoded, [.. items.Select(i => FramingFor(i.Modality))], tokenizer, UsesMrope, TokensPerSecond, Placeholder);

    public IReadOnlySet<string> Modalities { get; }

    /// <summary>Encodes one item with its plugin. Throws the plugin's typed errors (e.g. <see cref="InvalidMediaException"/>).</summary>
    public EncodedMedia Encode(MediaItem item, CancellationToken ct)
    {
        var encoded = EncoderFor(item).Encode(item, ct);
        if (encoded.Embeddings.dim() != 2 || encoded.Embeddings.shape[1] != _decoder.HiddenSize)
        {
            encoded.Dispose();
            throw new PluginLoadException($"The {item.Modality} plugin returned embeddings of shape [{string.Join(", ", encoded.Embeddings.shape)}]; the model's hidden size is {_decoder.HiddenSize}. The plugin is broken.");
        }

        return encoded;
    }

    /// <summary>The plugin's preprocessing of one item (reference-processor tensor names), where its encoder exposes it.</summary>
    public IReadOnlyDictionary<string, TorchSharp.torch.Tensor> Preprocess(MediaItem item) =>
        EncoderFor(item) is IMediaPreprocessor preprocessor
            ? preprocessor.Preprocess(item)
            : throw new PluginLoadException($"The {item.Modality} plugin does not expose its preprocessing (IMediaPreprocessor).");

    internal static double TemporalPositionsPerSecond(JsonElement config, string family)
    {
        static double? Number(JsonElement parent, string key) =>
            parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(key, out var e) && e.TryGetDouble(out double v) ? v : null;
        if (family == "qwen2_5_omni")
        {
            return config.TryGetProperty("thinker_config", out var thinker) ? Number(thinker, "position_id_per_seconds") ?? 25 : 25;
        }

        return config.TryGetProperty("vision_config", out var vision) ? Number(vision, "tokens_per_second") ?? 2.0 : 2.0;
    }

    private IModalityEncoder EncoderFor(MediaItem item)
    {
        var factory = _resolver.Resolve(item.Modality, Family);
        if (!_encoders.TryGetValue(factory, out var encoder))
        {
            encoder = factory.Create(new EncoderContext
            {
                Family = Family,
                Config = _config,
                HiddenSize = _decoder.HiddenSize,
                Device = _device,
                DType = _dtype,
                Weights = Weights(factory.WeightPrefix),
                ModelDirectory = _directory,
                Logger = _loggers.CreateLogger(factory.GetType().FullName ?? item.Modality),
            });
            _encoders[factory] = encoder;
        }

        return encoder;
    }

    // Checkpoints re-saved by transformers >= 4.52 keep plugin tensors under "model." (model.visual.*).
    private IWeightSource Weights(string prefix)
    {
        var weights = _files.WithPrefix(prefix);
        return weights.Names.Count == 0 && prefix.Length > 0 && _files.Names.Any(n => n.StartsWith("model." + prefix, StringComparison.Ordinal))
            ? _files.WithPrefix("model." + prefix)
            : weights;
    }

    public void Dispose()
    {
        foreach (var encoder in _encoders.Values)
        {
            encoder.Dispose();
        }

        _files.Dispose();
    }
}

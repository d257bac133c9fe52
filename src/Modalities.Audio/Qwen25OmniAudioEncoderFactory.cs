using JudgeHost.Abstractions;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Modalities.Audio;

/// <summary>
/// Audio for Qwen2.5-Omni: decode, 16 kHz mono, Whisper log-mel features (<see cref="IMediaPreprocessor"/>). The audio
/// tower that turns features into embeddings (<c>thinker.audio_tower.*</c>) is not implemented yet, so
/// <see cref="IModalityEncoder.Encode"/> refuses with a typed error; preprocessing needs no weights.
/// </summary>
public sealed class Qwen25OmniAudioEncoderFactory(AudioPluginSettings settings) : IModalityEncoderFactory
{
    public string Modality => "audio";

    public IReadOnlyList<string> Families => ["qwen2_5_omni"];

    public string WeightPrefix => "thinker.audio_tower.";

    public IModalityEncoder Create(EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string preprocessor = context.ModelDirectory.Length > 0 ? Path.Combine(context.ModelDirectory, "preprocessor_config.json") : "";
        var options = File.Exists(preprocessor) ? WhisperFeatureOptions.FromPreprocessorConfig(preprocessor) : WhisperFeatureOptions.Default;
        var extractor = new WhisperFeatureExtractor(options);
        return new Qwen25OmniAudioEncoder(new AudioLoader(settings), extractor, context.Logger);
    }
}

/// <summary>One recording → Whisper features; embeddings wait for the audio tower.</summary>
public sealed class Qwen25OmniAudioEncoder : IModalityEncoder, IMediaPreprocessor
{
    private readonly AudioLoader _loader;
    private readonly ILogger _logger;

    internal Qwen25OmniAudioEncoder(AudioLoader loader, WhisperFeatureExtractor extractor, ILogger logger)
    {
        _loader = loader;
        Extractor = extractor;
        _logger = logger;
    }

    public WhisperFeatureExtractor Extractor { get; }

    /// <summary>HF's <c>input_features [feature_size, 3000]</c> (float32) and <c>feature_attention_mask [3000]</c> (int64).</summary>
    public IReadOnlyDictionary<string, Tensor> Preprocess(MediaItem item)
    {
        var features = Features(item, CancellationToken.None);
        return new Dictionary<string, Tensor>
        {
            ["input_features"] = features.InputFeatures,
            ["feature_attention_mask"] = features.AttentionMask,
        };
    }

    public EncodedMedia Encode(MediaItem item, CancellationToken cancellationToken = default) =>
        throw new PluginLoadException($"{item?.Describe()}: the audio plugin computes features only; the Qwen2.5-Omni audio tower (thinker.audio_tower.*) is not implemented yet (issue #7). Use 'judgehost inspect mel' for the features.");

    public void Dispose()
    {
    }

    /// <summary>Decodes the item and computes its features (the caller disposes them).</summary>
    public WhisperFeatures Features(MediaItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        string path = item.Path ?? throw new InvalidMediaException($"{item.Describe()} has no path; audio is read from files.");
        var o = Extractor.Options;
        var audio = _loader.Load(path, path, o.SamplingRate, cancellationToken);
        if (audio.TotalSamples > o.NSamples)
        {
            _logger.LogWarning("Audio '{Path}' is {Seconds:0.##} s long; the model hears its first {Window} s only (the Hugging Face processor cuts it the same way).", path, (double)audio.TotalSamples / o.SamplingRate, o.ChunkLength);
        }

        return Extractor.Extract(audio.Samples, audio.TotalSamples);
    }
}

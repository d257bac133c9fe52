using JudgeHost.Abstractions;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Modalities.Audio;

/// <summary>
/// Audio for Qwen2.5-Omni: decode, 16 kHz mono, Whisper log-mel features (<see cref="IMediaPreprocessor"/>), then the
/// audio tower (<c>thinker.audio_tower.*</c>, <see cref="Qwen25OmniAudioTower"/>). Preprocessing needs no weights:
/// given a weight source without audio-tower tensors (e.g. <c>inspect mel</c>), the encoder still preprocesses and
/// <see cref="IModalityEncoder.Encode"/> refuses with <see cref="MissingWeightsException"/>.
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
        Qwen25OmniAudioTower? tower = null;
        if (context.Weights.Names.Count > 0)
        {
            var config = Qwen25OmniAudioConfig.From(context.Config);
            if (config.OutputDim != context.HiddenSize)
            {
                throw new CorruptCheckpointException($"thinker_config.audio_config.output_dim is {config.OutputDim} but the language model's hidden size is {context.HiddenSize}; the checkpoint is inconsistent.");
            }

            if (config.NumMelBins != options.FeatureSize)
            {
                throw new CorruptCheckpointException($"thinker_config.audio_config.num_mel_bins is {config.NumMelBins} but preprocessor_config.json's feature_size is {options.FeatureSize}; the checkpoint is inconsistent.");
            }

            tower = new Qwen25OmniAudioTower(config);
            try
            {
                tower.MoveTo(context.Device);
                tower.Load(context.Weights);
            }
            catch
            {
                tower.Dispose();
                throw;
            }
        }

        return new Qwen25OmniAudioEncoder(new AudioLoader(settings), extractor, tower, context.DType, context.Device, context.Logger);
    }
}

/// <summary>
/// One recording → Whisper features → <c>[N, hidden]</c> embeddings, N = <c>(((L-1)//2+1)-2)//2+1</c> for L valid mel
/// frames (25 per second of audio, at most 750 for the 30-s window). The layout is a plain run
/// (<see cref="PositionLayout.Sequence"/>): the Omni thinker gives audio tokens consecutive positions on all three
/// M-RoPE streams (one position = 40 ms = 1/position_id_per_seconds), MODEL_SPEC §4.5.
/// </summary>
public sealed class Qwen25OmniAudioEncoder : IModalityEncoder, IMediaPreprocessor
{
    private readonly AudioLoader _loader;
    private readonly Qwen25OmniAudioTower? _tower;
    private readonly ScalarType _dtype;
    private readonly Device _device;
    private readonly ILogger _logger;

    internal Qwen25OmniAudioEncoder(AudioLoader loader, WhisperFeatureExtractor extractor, Qwen25OmniAudioTower? tower, ScalarType dtype, Device device, ILogger logger)
    {
        _loader = loader;
        Extractor = extractor;
        _tower = tower;
        _dtype = dtype;
        _device = device;
        _logger = logger;
    }

    /// <summary>The loaded tower, or null when the weight source had no audio-tower tensors.</summary>
    public Qwen25OmniAudioTower? Tower => _tower;

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

    public EncodedMedia Encode(MediaItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        var tower = _tower ?? throw new MissingWeightsException($"{item.Describe()}: the checkpoint has no thinker.audio_tower.* tensors, so audio cannot be encoded. Use a Qwen2.5-Omni checkpoint with its thinker.");
        using var features = Features(item, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        int frames = features.ValidFrames;
        var (_, tokens) = Qwen25OmniAudioConfig.OutputLengths(frames);
        if (tokens < 1)
        {
            throw new InvalidMediaException($"{item.Describe()} is too short: {frames} mel frame(s) ({frames * 10} ms) give no audio token; the model needs at least 3 frames (about 30 ms). Give a longer recording.");
        }

        using var scope = NewDisposeScope();
        var valid = features.InputFeatures.narrow(1, 0, frames);                                  // [128, L]
        var embeddings = tower.forward(valid).to(_dtype, _device).MoveToOuterDisposeScope();       // [N, hidden]
        return new EncodedMedia(embeddings, new PositionLayout.Sequence(tokens));
    }

    public void Dispose() => _tower?.Dispose();

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

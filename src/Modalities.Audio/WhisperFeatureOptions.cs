using System.Globalization;
using System.Text.Json;
using JudgeHost.Abstractions;

namespace Modalities.Audio;

/// <summary>
/// Settings of transformers' <c>WhisperFeatureExtractor</c> as a Qwen2.5-Omni checkpoint's
/// <c>preprocessor_config.json</c> gives them. The defaults are Qwen2.5-Omni's values (128 mel bins, 30-s window).
/// </summary>
public sealed record WhisperFeatureOptions
{
    /// <summary>Qwen2.5-Omni's values.</summary>
    public static WhisperFeatureOptions Default { get; } = new();

    /// <summary>Mel bins (<c>feature_size</c>).</summary>
    public int FeatureSize { get; init; } = 128;

    /// <summary>Sample rate the extractor expects (<c>sampling_rate</c>); audio is resampled to it.</summary>
    public int SamplingRate { get; init; } = 16000;

    /// <summary>STFT hop (<c>hop_length</c>).</summary>
    public int HopLength { get; init; } = 160;

    /// <summary>STFT size and Hann window length (<c>n_fft</c>).</summary>
    public int NFft { get; init; } = 400;

    /// <summary>Seconds every input is padded or cut to (<c>chunk_length</c>).</summary>
    public int ChunkLength { get; init; } = 30;

    /// <summary>Sample value used for padding (<c>padding_value</c>).</summary>
    public float PaddingValue { get; init; }

    /// <summary>Samples per window: <c>chunk_length * sampling_rate</c> (480,000).</summary>
    public int NSamples => ChunkLength * SamplingRate;

    /// <summary>Feature frames per window: <c>n_samples // hop_length</c> (3,000).</summary>
    public int NbMaxFrames => NSamples / HopLength;

    /// <summary>Reads <c>preprocessor_config.json</c>: keys present override the defaults.</summary>
    /// <exception cref="CorruptCheckpointException">Not JSON, wrong types, or values this port cannot honour (dither).</exception>
    public static WhisperFeatureOptions FromPreprocessorConfig(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var o = new WhisperFeatureOptions();
            if (Present(root, "feature_size", out var v))
            {
                o = o with { FeatureSize = v.GetInt32() };
            }

            if (Present(root, "sampling_rate", out v))
            {
                o = o with { SamplingRate = v.GetInt32() };
            }

            if (Present(root, "hop_length", out v))
            {
                o = o with { HopLength = v.GetInt32() };
            }

            if (Present(root, "n_fft", out v))
            {
                o = o with { NFft = v.GetInt32() };
            }

            if (Present(root, "chunk_length", out v))
            {
                o = o with { ChunkLength = v.GetInt32() };
            }

            if (Present(root, "padding_value", out v))
            {
                o = o with { PaddingValue = v.GetSingle() };
            }

            if (Present(root, "dither", out v) && v.GetDouble() != 0.0)
            {
                throw new CorruptCheckpointException(string.Create(CultureInfo.InvariantCulture,
                    $"Preprocessor config '{path}' sets dither={v.GetDouble()}; dithering adds random noise and is not implemented (Qwen2.5-Omni uses 0). Set it to 0.0."));
            }

            string? problem = o.Check();
            return problem is null ? o : throw new CorruptCheckpointException($"Preprocessor config '{path}': {problem} Restore the checkpoint's file.");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or IOException)
        {
            throw new CorruptCheckpointException($"Preprocessor config '{path}' is not valid: {ex.Message} Restore the checkpoint's file.", ex);
        }
    }

    internal string? Check() =>
        FeatureSize < 1 || SamplingRate < 1000 || HopLength < 1 || NFft < 2 || ChunkLength < 1 || NSamples / HopLength < 1
            ? string.Create(CultureInfo.InvariantCulture, $"feature_size {FeatureSize}, sampling_rate {SamplingRate}, hop_length {HopLength}, n_fft {NFft} and chunk_length {ChunkLength} must be positive (sampling_rate at least 1000).")
            : null;

    private static bool Present(JsonElement root, string name, out JsonElement value)
    {
        value = default;
        return root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace Modalities.Audio;

/// <summary>The extractor's output for one recording: what the Omni processor returns for it.</summary>
/// <param name="InputFeatures">float32 <c>[feature_size, nb_max_frames]</c> log-mel features (CPU).</param>
/// <param name="AttentionMask">int64 <c>[nb_max_frames]</c>: 1 for frames that start on a real sample.</param>
/// <param name="ValidFrames">Ones in the mask: <c>ceil(min(n, n_samples) / hop_length)</c>.</param>
public sealed record WhisperFeatures(Tensor InputFeatures, Tensor AttentionMask, int ValidFrames) : IDisposable
{
    public void Dispose()
    {
        InputFeatures.Dispose();
        AttentionMask.Dispose();
    }
}

/// <summary>
/// Mirrors transformers' <c>WhisperFeatureExtractor</c> as <c>Qwen2_5OmniProcessor</c> calls it (padding="max_length",
/// truncation, attention mask) on its torch path (<c>_torch_extract_fbank_features</c>, taken whenever torch is
/// installed): pad or cut to <c>n_samples</c>; <c>torch.stft</c> with a periodic Hann window, center=True, reflect
/// padding; drop the last frame; <c>|stft|^2</c>; Slaney mel filters (audio_utils.mel_filter_bank, float64 cast to
/// float32); <c>log10(max(mel, 1e-10))</c>; floor at the window's maximum − 8; <c>(x + 4) / 4</c>.
/// </summary>
public sealed class WhisperFeatureExtractor
{
    private readonly float[] _melFilters;

    public WhisperFeatureExtractor(WhisperFeatureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? problem = options.Check();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        Options = options;
        _melFilters = MelFilterBank(1 + (options.NFft / 2), options.FeatureSize, 0.0, 8000.0, options.SamplingRate);
    }

    public WhisperFeatureOptions Options { get; }

    /// <summary>The mel filters, float32 <c>[1 + n_fft/2, feature_size]</c> row-major, as the extractor uses them.</summary>
    public ReadOnlySpan<float> MelFilters => _melFilters;

    /// <summary>Features and mask of one mono waveform at <see cref="WhisperFeatureOptions.SamplingRate"/>.</summary>
    /// <param name="waveform">Samples; beyond <c>n_samples</c> they are ignored (the processor truncates).</param>
    /// <param name="totalSamples">Length of the whole recording (≥ <c>waveform.Length</c> when only a prefix was decoded).</param>
    public WhisperFeatures Extract(ReadOnlySpan<float> waveform, long totalSamples)
    {
        var o = Options;
        int n = (int)Math.Min(Math.Min(totalSamples, o.NSamples), waveform.Length);
        var padded = new float[o.NSamples];
        waveform[..n].CopyTo(padded);
        if (o.PaddingValue != 0f)
        {
            padded.AsSpan(n).Fill(o.PaddingValue);
        }

        int frames = o.NbMaxFrames;
        var mask = new long[frames];
        int valid = 0;
        for (int i = 0; i < frames; i++)
        {
            // attention_mask[:, ::hop_length] over the padded sample mask
            if ((long)i * o.HopLength < n)
            {
                mask[i] = 1;
                valid++;
            }
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var wave = tensor(padded).unsqueeze(0);                                                   // [1, n_samples]
        var window = hann_window(o.NFft, periodic: true, dtype: ScalarType.Float32);
        var stft = torch.stft(wave, o.NFft, o.HopLength, window: window, center: true, pad_mode: PaddingModes.Reflect, return_complex: true); // [1, bins, frames + 1]
        var magnitudes = stft[.., .., ..^1].abs().pow(2);                                        // [1, bins, frames]
        var filters = tensor(_melFilters).view(1 + (o.NFft / 2), o.FeatureSize);                  // [bins, mels]
        var melSpec = filters.T.matmul(magnitudes);                                               // [1, mels, frames]
        var logSpec = melSpec.clamp_min(1e-10).log10();
        var maxVal = logSpec.max();
        logSpec = maximum(logSpec, maxVal - 8.0);
        logSpec = (logSpec + 4.0) / 4.0;
        var features = logSpec.squeeze(0).contiguous().MoveToOuterDisposeScope();                // [mels, frames]
        var maskTensor = tensor(mask).MoveToOuterDisposeScope();
        return new WhisperFeatures(features, maskTensor, valid);
    }

    /// <summary>
    /// transformers audio_utils.mel_filter_bank(..., norm="slaney", mel_scale="slaney") in float64, returned as float32
    /// <c>[num_frequency_bins, num_mel_filters]</c> row-major.
    /// </summary>
    internal static float[] MelFilterBank(int numFrequencyBins, int numMelFilters, double minFrequency, double maxFrequency, int samplingRate)
    {
        double melMin = HertzToMel(minFrequency);
        double melMax = HertzToMel(maxFrequency);
        var filterFreqs = new double[numMelFilters + 2];
        var melFreqs = Linspace(melMin, melMax, numMelFilters + 2);
        for (int i = 0; i < filterFreqs.Length; i++)
        {
            filterFreqs[i] = MelToHertz(melFreqs[i]);
        }

        var fftFreqs = Linspace(0, samplingRate / 2, numFrequencyBins);
        var filterDiff = new double[filterFreqs.Length - 1];
        for (int i = 0; i < filterDiff.Length; i++)
        {
            filterDiff[i] = filterFreqs[i + 1] - filterFreqs[i];
        }

        var weights = new float[numFrequencyBins * numMelFilters];
        for (int f = 0; f < numFrequencyBins; f++)
        {
            for (int m = 0; m < numMelFilters; m++)
            {
                // _create_triangular_filter_bank: slopes = filter_freqs[None] - fft_freqs[:, None]
                double down = -(filterFreqs[m] - fftFreqs[f]) / filterDiff[m];
                double up = (filterFreqs[m + 2] - fftFreqs[f]) / filterDiff[m + 1];
                double w = Math.Max(0.0, Math.Min(down, up));
                double enorm = 2.0 / (filterFreqs[m + 2] - filterFreqs[m]);
                weights[(f * numMelFilters) + m] = (float)(w * enorm);
            }
        }

        return weights;
    }

    // audio_utils.hertz_to_mel / mel_to_hertz, mel_scale="slaney".
    private static double HertzToMel(double freq) =>
        freq >= 1000.0 ? 15.0 + (Math.Log(freq / 1000.0) * (27.0 / Math.Log(6.4))) : 3.0 * freq / 200.0;

    private static double MelToHertz(double mels) =>
        mels >= 15.0 ? 1000.0 * Math.Exp(Math.Log(6.4) / 27.0 * (mels - 15.0)) : 200.0 * mels / 3.0;

    // np.linspace(start, stop, num): i * step + start, the last element set to stop.
    private static double[] Linspace(double start, double stop, int num)
    {
        var y = new double[num];
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++)
        {
            y[i] = (i * step) + start;
        }

        y[^1] = stop;
        return y;
    }
}

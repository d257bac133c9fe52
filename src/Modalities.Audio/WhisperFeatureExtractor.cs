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
    private readonly float[] _window;
    private readonly RealFft _fft;
    private readonly (int First, int Count)[] _melSupport;

    public WhisperFeatureExtractor(WhisperFeatureOptions options)
        : this(options, null)
    {
    }

    internal WhisperFeatureExtractor(WhisperFeatureOptions options, float[]? window)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? problem = options.Check();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        Options = options;
        _melFilters = MelFilterBank(1 + (options.NFft / 2), options.FeatureSize, 0.0, 8000.0, options.SamplingRate);
        _window = window ?? HannWindow(options.NFft);
        _fft = new RealFft(options.NFft);
        int bins = 1 + (options.NFft / 2);
        _melSupport = new (int, int)[options.FeatureSize];
        for (int m = 0; m < options.FeatureSize; m++)
        {
            int first = 0;
            while (first < bins && _melFilters[(first * options.FeatureSize) + m] == 0f)
            {
                first++;
            }

            int last = bins - 1;
            while (last >= first && _melFilters[(last * options.FeatureSize) + m] == 0f)
            {
                last--;
            }

            _melSupport[m] = (first, Math.Max(0, last - first + 1));
        }
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

        var logSpec = LogMel(padded);                                                             // [mels, frames]
        var features = tensor(logSpec).view(o.FeatureSize, frames);
        var maskTensor = tensor(mask);
        return new WhisperFeatures(features, maskTensor, valid);
    }

    /// <summary>The periodic Hann window as <c>torch.hann_window(n)</c> computes it in float32.</summary>
    public ReadOnlySpan<float> Window => _window;

    /// <summary>
    /// The torch path in float32, operation by operation: reflect-pad by n_fft/2, frame, multiply by the window, real
    /// FFT (pocketfft's order, see <see cref="RealFft"/>), <c>|X|</c> as <c>sqrt(re² + im²)</c> then squared
    /// (<c>.abs() ** 2</c>), mel projection (accumulated in float64, rounded once), <c>log10(max(·, 1e-10))</c>, floor at
    /// max − 8, <c>(x + 4) / 4</c>. Returns <c>[mels, frames]</c> row-major.
    /// </summary>
    private float[] LogMel(float[] padded)
    {
        var o = Options;
        int nFft = o.NFft, hop = o.HopLength, frames = o.NbMaxFrames, mels = o.FeatureSize, bins = 1 + (nFft / 2);
        int pad = nFft / 2;
        int length = padded.Length;
        var power = new float[bins * frames];                       // [bins, frames]
        var buffer = new float[nFft];
        var scratch = new float[nFft];
        for (int t = 0; t < frames; t++)                             // torch.stft's last frame is dropped: never computed
        {
            int start = (t * hop) - pad;
            for (int j = 0; j < nFft; j++)
            {
                int at = start + j;
                at = at < 0 ? -at : at >= length ? (2 * (length - 1)) - at : at; // reflect padding
                buffer[j] = padded[at] * _window[j];
            }

            _fft.Forward(buffer, scratch);
            for (int f = 0; f < bins; f++)
            {
                float re = f == 0 ? buffer[0] : 2 * f == nFft ? buffer[nFft - 1] : buffer[(2 * f) - 1];
                float im = f == 0 || 2 * f == nFft ? 0f : buffer[2 * f];
                float magnitude = MathF.Sqrt((re * re) + (im * im));
                power[(f * frames) + t] = magnitude * magnitude;
            }
        }

        var logSpec = new float[mels * frames];
        float max = float.NegativeInfinity;
        for (int m = 0; m < mels; m++)
        {
            var (first, count) = _melSupport[m];
            for (int t = 0; t < frames; t++)
            {
                double sum = 0;
                for (int f = first; f < first + count; f++)
                {
                    sum += (double)_melFilters[(f * mels) + m] * power[(f * frames) + t];
                }

                float value = MathF.Log10(Math.Max((float)sum, 1e-10f));
                logSpec[(m * frames) + t] = value;
                max = Math.Max(max, value);
            }
        }

        float floor = max - 8.0f;
        for (int i = 0; i < logSpec.Length; i++)
        {
            logSpec[i] = (Math.Max(logSpec[i], floor) + 4.0f) / 4.0f;
        }

        return logSpec;
    }

    /// <summary>
    /// torch.hann_window(n, periodic=True) in float32: <c>0.5 - 0.5·cos(k · (2π/n))</c> for k &lt; n, each step rounded to
    /// float32 as torch's <c>arange().mul_().cos_().mul_(-0.5).add_(0.5)</c> rounds it.
    /// </summary>
    internal static float[] HannWindow(int n)
    {
        float step = (float)(Math.PI * 2.0 / n);
        var window = new float[n];
        for (int k = 0; k < n; k++)
        {
            float angle = k * step;
            float cos = (float)Math.Cos(angle);
            window[k] = (cos * -0.5f) + 0.5f;
        }

        return window;
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

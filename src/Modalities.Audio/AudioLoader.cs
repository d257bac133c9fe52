using JudgeHost.Abstractions;

namespace Modalities.Audio;

/// <summary>A mono 16 kHz waveform, possibly only its start, and the length of the whole recording at 16 kHz.</summary>
/// <param name="Samples">Mono float32 samples at the requested rate (16 kHz for Qwen2.5-Omni).</param>
/// <param name="TotalSamples">Samples the whole recording has at that rate (librosa's <c>ceil(n·16000/sr)</c>).</param>
/// <param name="SourceSampleRate">The file's own sample rate.</param>
/// <param name="SourceChannels">The file's channel count.</param>
public sealed record MonoAudio(float[] Samples, long TotalSamples, int SourceSampleRate, int SourceChannels);

/// <summary>
/// <c>librosa.load(path, sr=16000)</c> as qwen-omni-utils calls it: decode to float32 (WAV in-process like
/// libsndfile; other formats through ffmpeg), average the channels (<c>to_mono</c>: float32 sum over channels, divided
/// by their count), resample with soxr_hq. Only the first <see cref="KeepSeconds"/> of a long recording are decoded
/// into memory: the feature extractor keeps 30 s, and libsoxr's filters reach far less than the extra seconds ahead,
/// so the first 30 s come out exactly as from the whole file.
/// </summary>
internal sealed class AudioLoader(AudioPluginSettings settings)
{
    /// <summary>Seconds of source audio kept: the 30-s window plus a margin wider than any soxr_hq filter.</summary>
    public const double KeepSeconds = 32.0;

    private readonly FfmpegAudioReader _ffmpeg = new(settings);

    public MonoAudio Load(string path, string source, int sampleRate, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new InvalidMediaException($"Audio '{source}' does not exist. Check the path.");
        }

        if (info.Length == 0)
        {
            throw new InvalidMediaException($"Audio '{source}' is an empty file (0 bytes). Give a recording with sound in it.");
        }

        var decoded = Decode(path, source, cancellationToken);
        var mono = ToMono(decoded);
        var resampled = SoxrResampler.Resample(mono, decoded.SampleRate, sampleRate, source);
        long total = decoded.TotalFrames == decoded.Frames
            ? resampled.Length
            : (long)Math.Ceiling(decoded.TotalFrames * ((double)sampleRate / decoded.SampleRate));
        return new MonoAudio(resampled, total, decoded.SampleRate, decoded.Channels);
    }

    private DecodedAudio Decode(string path, string source, CancellationToken cancellationToken)
    {
        var head = new byte[12];
        using (var file = File.OpenRead(path))
        {
            file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        if (WavReader.IsRiffWave(head))
        {
            var wav = WavReader.Read(path, source, settings, KeepSeconds);
            if (wav is not null)
            {
                return wav;
            }
        }

        return _ffmpeg.Read(path, source, KeepSeconds, cancellationToken);
    }

    /// <summary>librosa.to_mono: <c>np.mean(y, axis=0)</c> over channels in float32.</summary>
    internal static float[] ToMono(DecodedAudio audio)
    {
        int channels = audio.Channels;
        if (channels == 1)
        {
            return audio.Samples;
        }

        var mono = new float[audio.Frames];
        var samples = audio.Samples;
        for (int t = 0; t < mono.Length; t++)
        {
            float sum = samples[t * channels];
            for (int c = 1; c < channels; c++)
            {
                sum += samples[(t * channels) + c];
            }

            mono[t] = sum / channels;
        }

        return mono;
    }
}

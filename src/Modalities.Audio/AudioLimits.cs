using System.Globalization;
using JudgeHost.Abstractions;

namespace Modalities.Audio;

/// <summary>Checks shared by the WAV and ffmpeg readers; every failure is an <see cref="InvalidMediaException"/>.</summary>
internal static class AudioLimits
{
    /// <summary>Lowest sample rate accepted; below it a header is far more likely corrupt than real.</summary>
    public const int MinSampleRate = 1000;

    /// <summary>Highest sample rate accepted (8 x 96 kHz); above it a header is corrupt or the file is not audio.</summary>
    public const int MaxSampleRate = 768_000;

    /// <summary>Most channels accepted (WAVE_FORMAT_EXTENSIBLE's mask has 18 named positions; ffmpeg allows 64).</summary>
    public const int MaxChannels = 64;

    public static void CheckFormat(string source, long sampleRate, long channels)
    {
        if (sampleRate < MinSampleRate || sampleRate > MaxSampleRate)
        {
            throw new InvalidMediaException(string.Create(CultureInfo.InvariantCulture,
                $"Audio '{source}' declares a sample rate of {sampleRate} Hz; only {MinSampleRate}–{MaxSampleRate} Hz is accepted. The header is probably corrupt: re-export the file (e.g. ffmpeg -i IN -ar 16000 OUT.wav)."));
        }

        if (channels < 1 || channels > MaxChannels)
        {
            throw new InvalidMediaException(string.Create(CultureInfo.InvariantCulture,
                $"Audio '{source}' declares {channels} channels; 1–{MaxChannels} are accepted. The header is probably corrupt: re-export the file."));
        }
    }

    public static void CheckDuration(string source, long frames, int sampleRate, AudioPluginSettings settings)
    {
        if (frames <= 0)
        {
            throw new InvalidMediaException($"Audio '{source}' contains no samples (0 seconds). Give a recording with sound in it.");
        }

        double seconds = (double)frames / sampleRate;
        if (seconds > settings.MaxDurationSeconds)
        {
            throw new InvalidMediaException(string.Create(CultureInfo.InvariantCulture,
                $"Audio '{source}' is {seconds:0.###} s long; the limit is {settings.MaxDurationSeconds:0.###} s (Modalities:Audio:MaxDurationSeconds). The model hears only the first 30 s: cut or split the recording, or raise the limit."));
        }
    }
}

using System.Globalization;

namespace Modalities.Audio;

/// <summary>Plugin-wide audio settings (<c>Modalities:Audio</c>).</summary>
public sealed record AudioPluginSettings
{
    /// <summary>Ten minutes: far beyond the 30-s window the model sees, small enough to decode without trouble.</summary>
    public const double DefaultMaxDurationSeconds = 600;

    /// <summary>The defaults.</summary>
    public static AudioPluginSettings Default { get; } = new();

    /// <summary>
    /// Audio longer than this is refused before it is decoded (the duration comes from the WAV header or ffprobe).
    /// Audio between 30 s and this limit is cut to its first 30 s, as the Hugging Face processor does.
    /// </summary>
    public double MaxDurationSeconds { get; init; } = DefaultMaxDurationSeconds;

    /// <summary>Folder holding ffmpeg and ffprobe (formats other than WAV); null: search the PATH.</summary>
    public string? FfmpegFolder { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming a value that cannot work.</summary>
    public void Validate()
    {
        if (!(MaxDurationSeconds > 0) || double.IsInfinity(MaxDurationSeconds))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Modalities:Audio:MaxDurationSeconds must be a positive number of seconds; got {MaxDurationSeconds}."));
        }
    }
}

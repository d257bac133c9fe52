namespace Modalities.Audio;

/// <summary>
/// Decoded audio as librosa sees it after <c>soundfile.read(dtype=float32)</c>: interleaved float32 samples at the
/// file's own rate and channel count, possibly only a prefix of the file (see <see cref="TotalFrames"/>).
/// </summary>
/// <param name="Samples">Interleaved samples, <see cref="Channels"/> per frame; <see cref="Frames"/> frames.</param>
/// <param name="Channels">Channels per frame.</param>
/// <param name="SampleRate">Frames per second.</param>
/// <param name="TotalFrames">Frames in the whole file; larger than <see cref="Frames"/> when only a prefix was kept.</param>
public sealed record DecodedAudio(float[] Samples, int Channels, int SampleRate, long TotalFrames)
{
    /// <summary>Frames held in <see cref="Samples"/>.</summary>
    public int Frames => Samples.Length / Channels;

    /// <summary>Duration of the whole file in seconds.</summary>
    public double DurationSeconds => (double)TotalFrames / SampleRate;
}

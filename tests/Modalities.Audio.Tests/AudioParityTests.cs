using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace Modalities.Audio.Tests;

/// <summary>
/// Decoding + mono mix + soxr_hq resampling (librosa.load) and the Whisper features against the fixture script's
/// reference on real recordings (espeak-ng speech, sox tones/sweeps/noise, ffmpeg-compressed copies).
/// </summary>
public sealed class AudioParityTests(ITestOutputHelper output)
{
    private static readonly AudioLoader Loader = new(AudioPluginSettings.Default);
    private static readonly WhisperFeatureExtractor Extractor = new(WhisperFeatureOptions.Default);

    /// <summary>PCM/float WAV (read in-process) and FLAC (ffmpeg): the same samples libsndfile gives.</summary>
    public static TheoryData<string> Lossless => Fixtures.CaseIds(c => c.Format is "wav" or "flac");

    /// <summary>Ogg Vorbis, MP3 and AAC: ffmpeg's decoders, not libvorbis / mpg123 / audioread's 16-bit pipe.</summary>
    public static TheoryData<string> Lossy => Fixtures.CaseIds(c => c.Format is "ogg" or "mp3" or "m4a");

    public static TheoryData<string> All => Fixtures.CaseIds(_ => true);

    [Theory]
    [MemberData(nameof(Lossless))]
    public void Load_LosslessRecording_EqualsLibrosaLoadBitForBit(string id)
    {
        var c = Fixtures.Case(id);

        var audio = Loader.Load(c.FullPath, c.File, 16000, CancellationToken.None);

        Assert.Equal(c.Samples16k, audio.TotalSamples);
        Assert.Equal(c.SampleRate, audio.SourceSampleRate);
        Assert.Equal(c.Channels, audio.SourceChannels);
        Assert.Equal(c.WaveformSha256, Sha256(audio.Samples));
    }

    [Theory]
    [MemberData(nameof(Lossy))]
    public void Load_LossyRecording_IsCloseToLibrosaLoad(string id)
    {
        var c = Fixtures.Case(id);
        var head = (float[])c.Expected["waveform_head"];

        var audio = Loader.Load(c.FullPath, c.File, 16000, CancellationToken.None);

        double diff = MaxAbsDiff(audio.Samples.AsSpan(0, Math.Min(head.Length, audio.Samples.Length)), head.AsSpan(0, Math.Min(head.Length, audio.Samples.Length)));
        output.WriteLine($"{id}: {audio.Samples.Length} vs {c.Samples16k} samples, head max |diff| {diff:E2}");
        Assert.Equal(c.Samples16k, audio.TotalSamples);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Features_Recording_MatchReference(string id)
    {
        var c = Fixtures.Case(id);
        var expected = c.Expected;
        var audio = Loader.Load(c.FullPath, c.File, 16000, CancellationToken.None);

        using var features = Extractor.Extract(audio.Samples, audio.TotalSamples);

        Assert.Equal(new long[] { 128, 3000 }, features.InputFeatures.shape);
        Assert.Equal((long[])expected["feature_attention_mask"], features.AttentionMask.data<long>().ToArray());
        Assert.Equal(c.ValidFrames, features.ValidFrames);
        var actual = features.InputFeatures.data<float>().ToArray();
        double diff = c.Long ? LongDiff(actual, expected) : ShortDiff(actual, expected);
        output.WriteLine($"{id}: features max |diff| {diff:E2}");
        Assert.True(diff <= (c.Format is "ogg" or "mp3" or "m4a" ? 1e-2 : 1e-5), $"{id}: max |diff| {diff:E3}");
    }

    private static double ShortDiff(float[] actual, IReadOnlyDictionary<string, Array> expected)
    {
        var kept = (float[])expected["input_features"];
        int columns = kept.Length / 128;
        float floor = ((float[])expected["padding_value"])[0];
        double diff = 0;
        for (int m = 0; m < 128; m++)
        {
            for (int t = 0; t < 3000; t++)
            {
                float reference = t < columns ? kept[(m * columns) + t] : floor;
                diff = Math.Max(diff, Math.Abs(actual[(m * 3000) + t] - reference));
            }
        }

        return diff;
    }

    private static double LongDiff(float[] actual, IReadOnlyDictionary<string, Array> expected)
    {
        var head = (float[])expected["input_features_head"];
        var tail = (float[])expected["input_features_tail"];
        double diff = 0;
        for (int m = 0; m < 128; m++)
        {
            for (int t = 0; t < 64; t++)
            {
                diff = Math.Max(diff, Math.Abs(actual[(m * 3000) + t] - head[(m * 64) + t]));
                diff = Math.Max(diff, Math.Abs(actual[(m * 3000) + 2936 + t] - tail[(m * 64) + t]));
            }
        }

        return diff;
    }

    internal static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double diff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(a[i] - b[i]));
        }

        return diff;
    }

    private static string Sha256(float[] samples) =>
        Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(samples.AsSpan(0, Math.Min(samples.Length, 480000)))));
}

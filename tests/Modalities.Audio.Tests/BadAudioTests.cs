using JudgeHost.Abstractions;
using Modalities.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace Modalities.Audio.Tests;

/// <summary>Unusable audio is refused with the contract's InvalidMediaException, naming the file and what to do.</summary>
public sealed class BadAudioTests
{
    [Theory]
    [InlineData("empty.wav", "empty file")]                 // 0 bytes
    [InlineData("zero_samples.wav", "no samples")]          // a valid header and an empty data chunk: 0 seconds
    [InlineData("corrupt_header.wav", "fmt ")]              // 'fmt ' chunk of 6 bytes
    [InlineData("no_fmt_chunk.wav", "before any 'fmt '")]   // data chunk with no format
    [InlineData("absurd_rate.wav", "4000000000 Hz")]        // sample rate of 4 GHz
    [InlineData("zero_rate.wav", "0 Hz")]                   // sample rate 0
    [InlineData("bad_bits.wav", "40-bit PCM")]              // PCM wider than 32 bits
    [InlineData("unsupported_codec.wav", "ffmpeg")]         // WAVE format tag 0x7A7A: no decoder anywhere
    [InlineData("not_audio.mp3", "ffmpeg")]                 // a text file named .mp3
    public void Preprocess_BadFile_ThrowsInvalidMediaNamingTheFile(string file, string reason)
    {
        string path = Fixtures.PathOf(Path.Combine("bad", file));
        using var encoder = CreateEncoder(AudioPluginSettings.Default);

        var e = Assert.ThrowsAny<InvalidMediaException>(() => encoder.Preprocess(MediaItem.FromFile("audio", path)));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.True(e.IsUserError);
        Assert.EndsWith(".", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("audio/speech_22050_s16.wav")]  // 1.0 s WAV: the limit is checked from the header
    [InlineData("audio/speech_16000.flac")]     // 1.2 s FLAC: the limit is checked from ffprobe's duration
    public void Preprocess_LongerThanConfiguredLimit_ThrowsInvalidMedia(string file)
    {
        using var encoder = CreateEncoder(new AudioPluginSettings { MaxDurationSeconds = 0.5 });

        var e = Assert.Throws<InvalidMediaException>(() => encoder.Preprocess(MediaItem.FromFile("audio", Fixtures.PathOf(file))));

        Assert.Contains("the limit is 0.5 s (Modalities:Audio:MaxDurationSeconds)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Preprocess_MissingFile_ThrowsInvalidMedia()
    {
        using var encoder = CreateEncoder(AudioPluginSettings.Default);

        var e = Assert.Throws<InvalidMediaException>(() => encoder.Preprocess(MediaItem.FromFile("audio", "/nonexistent/a.wav")));

        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Preprocess_InlineValue_ThrowsInvalidMedia()
    {
        using var encoder = CreateEncoder(AudioPluginSettings.Default);

        Assert.Throws<InvalidMediaException>(() => encoder.Preprocess(MediaItem.FromValue("audio", "UklGRg==")));
    }

    [Fact]
    public void Preprocess_CompressedWithoutFfmpeg_SaysHowToInstallIt()
    {
        string empty = Directory.CreateTempSubdirectory("no-ffmpeg-").FullName;
        try
        {
            using var encoder = CreateEncoder(new AudioPluginSettings { FfmpegFolder = empty });

            var e = Assert.Throws<FfmpegNotFoundException>(() => encoder.Preprocess(MediaItem.FromFile("audio", Fixtures.PathOf("audio/speech_16000.flac"))));

            Assert.Contains("apt-get install ffmpeg", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void Settings_NonPositiveLimit_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new AudioPluginSettings { MaxDurationSeconds = 0 }.Validate());
    }

    private static Qwen25OmniAudioEncoder CreateEncoder(AudioPluginSettings settings) =>
        (Qwen25OmniAudioEncoder)new Qwen25OmniAudioEncoderFactory(settings).Create(new EncoderContext
        {
            Family = "qwen2_5_omni",
            Config = System.Text.Json.JsonDocument.Parse("{}").RootElement.Clone(),
            HiddenSize = 64,
            Device = TorchSharp.torch.CPU,
            DType = TorchSharp.torch.ScalarType.Float32,
            Weights = new JudgeHost.Backbone.EmptyWeightSource("no model in this test"),
            ModelDirectory = "",
            Logger = NullLogger.Instance,
        });
}

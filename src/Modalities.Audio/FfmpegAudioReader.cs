using System.Buffers.Binary;
using System.Text.Json;
using FFMpegCore;
using FFMpegCore.Exceptions;
using FFMpegCore.Pipes;
using JudgeHost.Abstractions;
using Modalities.Shared;

namespace Modalities.Audio;

/// <summary>
/// Decodes compressed audio (MP3, FLAC, Ogg, M4A/AAC, Opus, WAV codecs other than PCM/float, ...) through FFMpegCore
/// and the system's ffmpeg: the first audio stream, at its own sample rate and channel count, as interleaved float32
/// (<c>-f f32le</c>), read from the file (not a pipe) so decoders trim their priming samples. Mixing to mono and
/// resampling happen afterwards in-process, as librosa does them.
/// </summary>
internal sealed class FfmpegAudioReader(AudioPluginSettings settings)
{
    /// <summary>Decodes <paramref name="path"/>, keeping its first <paramref name="keepSeconds"/> and counting the rest.</summary>
    public DecodedAudio Read(string path, string source, double keepSeconds, CancellationToken cancellationToken)
    {
        var options = Options();
        var analysis = FfmpegTools.Analyse(path, options, why => $"Audio '{source}' is not a file ffmpeg can read ({why}). Give a WAV, MP3, FLAC, Ogg or M4A recording.");

        var stream = analysis.PrimaryAudioStream
            ?? throw new InvalidMediaException($"Audio '{source}' has no audio stream. Give a WAV, MP3, FLAC, Ogg or M4A recording.");
        int sampleRate = stream.SampleRateHz ?? 0;
        int channels = stream.Channels ?? 0;
        AudioLimits.CheckFormat(source, sampleRate, channels);
        var duration = stream.Duration > TimeSpan.Zero ? stream.Duration : analysis.Duration;
        if (duration.TotalSeconds > settings.MaxDurationSeconds)
        {
            AudioLimits.CheckDuration(source, (long)Math.Ceiling(duration.TotalSeconds * sampleRate), sampleRate, settings);
        }

        var sink = new FloatSink(channels, (long)Math.Ceiling(keepSeconds * sampleRate));
        try
        {
            FfmpegTools.Run(options, ["-i", path, "-map", "0:a:0", "-vn", "-sn", "-dn", "-c:a", "pcm_f32le"], sink, cancellationToken);
        }
        catch (Exception e) when (e is FFMpegException or IOException)
        {
            throw new InvalidMediaException($"Audio '{source}' cannot be decoded by ffmpeg ({stream.CodecName}): {FfmpegTools.LastLine(e.Message)}. Check that the file is complete, or convert it to WAV.", e);
        }

        AudioLimits.CheckDuration(source, sink.TotalFrames, sampleRate, settings);
        return new DecodedAudio(sink.Samples(), channels, sampleRate, sink.TotalFrames);
    }

    private FFOptions Options() => FfmpegTools.Options(settings.FfmpegFolder, "audio other than PCM/float WAV", "Modalities:Audio:FfmpegFolder");

    /// <summary>Reads interleaved float32 from ffmpeg's stdout, keeping the first frames and counting the rest.</summary>
    private sealed class FloatSink(int channels, long maxFrames) : IPipeSink
    {
        private readonly List<float[]> _blocks = [];
        private long _kept;

        public long TotalFrames { get; private set; }

        public string GetStreamArguments() => "-f f32le";

        public async Task ReadAsync(Stream inputStream, CancellationToken cancellationToken)
        {
            int frameBytes = 4 * channels;
            var buffer = new byte[Math.Max(frameBytes, (1 << 16) / frameBytes * frameBytes)];
            int filled = 0;
            while (true)
            {
                int read = await inputStream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return; // a trailing partial frame (ffmpeg died mid-frame) is dropped
                }

                filled += read;
                int frames = filled / frameBytes;
                Keep(buffer.AsSpan(0, frames * frameBytes), frames);
                int rest = filled - (frames * frameBytes);
                buffer.AsSpan(frames * frameBytes, rest).CopyTo(buffer);
                filled = rest;
            }
        }

        public float[] Samples()
        {
            var all = new float[_kept * channels];
            int at = 0;
            foreach (var block in _blocks)
            {
                block.CopyTo(all, at);
                at += block.Length;
            }

            return all;
        }

        private void Keep(ReadOnlySpan<byte> bytes, int frames)
        {
            TotalFrames += frames;
            int keep = (int)Math.Min(frames, maxFrames - _kept);
            if (keep <= 0)
            {
                return;
            }

            var block = new float[keep * channels];
            for (int i = 0; i < block.Length; i++)
            {
                block[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
            }

            _blocks.Add(block);
            _kept += keep;
        }
    }
}

using System.Buffers.Binary;
using System.Globalization;
using JudgeHost.Abstractions;

namespace Modalities.Audio;

/// <summary>
/// Reads RIFF/WAVE files in-process: PCM 8 (unsigned), 16, 24 and 32 bit, IEEE float 32 and 64 bit, plain or
/// WAVE_FORMAT_EXTENSIBLE, any channel count. Samples become float32 exactly as libsndfile converts them (what
/// <c>soundfile.read(dtype="float32")</c> inside <c>librosa.load</c> returns): integers are scaled by 2^-(bits-1) of
/// their container, floats are kept, doubles rounded. Other WAVE codecs (A-law, µ-law, ADPCM, ...) are left to ffmpeg.
/// Like libsndfile, a data chunk that claims more bytes than the file holds is read up to the end of the file.
/// </summary>
internal static class WavReader
{
    private const ushort FormatPcm = 1;
    private const ushort FormatFloat = 3;
    private const ushort FormatExtensible = 0xFFFE;

    // KSDATAFORMAT_SUBTYPE_* GUIDs share everything after their first two bytes (the format tag).
    private static readonly byte[] SubFormatTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    /// <summary>Whether the file starts like a RIFF/WAVE file (then <see cref="Read"/> owns its errors).</summary>
    public static bool IsRiffWave(ReadOnlySpan<byte> head) =>
        head.Length >= 12 && head[..4].SequenceEqual("RIFF"u8) && head[8..12].SequenceEqual("WAVE"u8);

    /// <summary>
    /// Reads the first <paramref name="keepSeconds"/> of a RIFF/WAVE file (the whole file when it is shorter), or
    /// returns null when its codec is not one this reader decodes (the caller hands such files to ffmpeg).
    /// </summary>
    /// <exception cref="InvalidMediaException">Corrupt or unusable header, no samples, too long.</exception>
    public static DecodedAudio? Read(string path, string source, AudioPluginSettings settings, double keepSeconds)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = new byte[12];
        if (file.ReadAtLeast(header, 12, throwOnEndOfStream: false) < 12 || !IsRiffWave(header))
        {
            throw Corrupt(source, "it does not start with a RIFF/WAVE header");
        }

        Format? format = null;
        var chunk = new byte[8];
        while (true)
        {
            if (file.ReadAtLeast(chunk, 8, throwOnEndOfStream: false) < 8)
            {
                throw Corrupt(source, format is null ? "it has no 'fmt ' chunk" : "it has no 'data' chunk");
            }

            uint size = BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(4));
            var id = chunk.AsSpan(0, 4);
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || size > 1024)
                {
                    throw Corrupt(source, string.Create(CultureInfo.InvariantCulture, $"its 'fmt ' chunk is {size} bytes (16–1024 expected)"));
                }

                var body = new byte[size];
                if (file.ReadAtLeast(body, body.Length, throwOnEndOfStream: false) < body.Length)
                {
                    throw Corrupt(source, "the file ends inside its 'fmt ' chunk");
                }

                format = ParseFormat(body, source);
                Skip(file, size & 1);
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (format is not { } f)
                {
                    throw Corrupt(source, "its 'data' chunk comes before any 'fmt ' chunk");
                }

                if (f.Kind == SampleKind.Other)
                {
                    return null;
                }

                long available = file.Length - file.Position;
                long bytes = Math.Min(size, available);
                long frames = bytes / f.BlockAlign;
                AudioLimits.CheckDuration(source, frames, f.SampleRate, settings);
                long keep = (long)Math.Ceiling(keepSeconds * f.SampleRate);
                return new DecodedAudio(ReadSamples(file, f, (int)Math.Min(frames, keep)), f.Channels, f.SampleRate, frames);
            }
            else
            {
                Skip(file, size + (size & 1L));
            }
        }
    }

    private static Format ParseFormat(byte[] body, string source)
    {
        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(body);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(2));
        uint sampleRate = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(4));
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(12));
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(14));
        AudioLimits.CheckFormat(source, sampleRate, channels);
        if (tag == FormatExtensible)
        {
            if (body.Length < 40)
            {
                throw Corrupt(source, string.Create(CultureInfo.InvariantCulture, $"its WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is {body.Length} bytes (40 expected)"));
            }

            var guid = body.AsSpan(24, 16);
            tag = guid[2..].SequenceEqual(SubFormatTail) ? BinaryPrimitives.ReadUInt16LittleEndian(guid) : (ushort)0;
        }

        var kind = (tag, bits) switch
        {
            (FormatPcm, >= 1 and <= 8) => SampleKind.UInt8,
            (FormatPcm, >= 9 and <= 16) => SampleKind.Int16,
            (FormatPcm, >= 17 and <= 24) => SampleKind.Int24,
            (FormatPcm, >= 25 and <= 32) => SampleKind.Int32,
            (FormatFloat, 32) => SampleKind.Float32,
            (FormatFloat, 64) => SampleKind.Float64,
            (FormatPcm or FormatFloat, _) => throw Corrupt(source, string.Create(CultureInfo.InvariantCulture, $"it declares {bits}-bit {(tag == FormatPcm ? "PCM" : "float")} samples")),
            _ => SampleKind.Other,
        };
        if (kind != SampleKind.Other && blockAlign != channels * BytesOf(kind))
        {
            throw Corrupt(source, string.Create(CultureInfo.InvariantCulture, $"its block align is {blockAlign} bytes but {channels} channel(s) of {bits}-bit samples need {channels * BytesOf(kind)}"));
        }

        if (kind == SampleKind.Other && blockAlign < 1)
        {
            throw Corrupt(source, "its block align is 0");
        }

        return new Format(kind, channels, (int)sampleRate, blockAlign);
    }

    private static float[] ReadSamples(FileStream file, Format f, int frames)
    {
        int width = BytesOf(f.Kind);
        var samples = new float[(long)frames * f.Channels];
        var buffer = new byte[Math.Max(f.BlockAlign, (1 << 16) / f.BlockAlign * f.BlockAlign)];
        int done = 0;
        while (done < samples.Length)
        {
            int want = (int)Math.Min(buffer.Length, (long)(samples.Length - done) * width);
            file.ReadExactly(buffer, 0, want);
            Convert(buffer.AsSpan(0, want), f.Kind, samples.AsSpan(done, want / width));
            done += want / width;
        }

        return samples;
    }

    // libsndfile's conversions (pcm.c, float32.c, double64.c with SFC_SET_NORM_FLOAT on): int sample * float(2^-(bits-1)).
    private static void Convert(ReadOnlySpan<byte> bytes, SampleKind kind, Span<float> dest)
    {
        switch (kind)
        {
            case SampleKind.UInt8:
                for (int i = 0; i < dest.Length; i++)
                {
                    dest[i] = (bytes[i] - 128) * (1.0f / 0x80);
                }

                break;
            case SampleKind.Int16:
                for (int i = 0; i < dest.Length; i++)
                {
                    dest[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]) * (1.0f / 0x8000);
                }

                break;
            case SampleKind.Int24:
                for (int i = 0; i < dest.Length; i++)
                {
                    int value = (bytes[3 * i] << 8) | (bytes[(3 * i) + 1] << 16) | (bytes[(3 * i) + 2] << 24);
                    dest[i] = value * (1.0f / 0x80000000);
                }

                break;
            case SampleKind.Int32:
                for (int i = 0; i < dest.Length; i++)
                {
                    dest[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]) * (1.0f / 0x80000000);
                }

                break;
            case SampleKind.Float32:
                for (int i = 0; i < dest.Length; i++)
                {
                    dest[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                }

                break;
            case SampleKind.Float64:
                for (int i = 0; i < dest.Length; i++)
                {
                    dest[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
                }

                break;
            default:
                throw new InvalidOperationException($"No conversion for {kind}.");
        }
    }

    private static int BytesOf(SampleKind kind) => kind switch
    {
        SampleKind.UInt8 => 1,
        SampleKind.Int16 => 2,
        SampleKind.Int24 => 3,
        SampleKind.Int32 or SampleKind.Float32 => 4,
        SampleKind.Float64 => 8,
        _ => 0,
    };

    private static void Skip(FileStream file, long bytes) => file.Seek(Math.Min(bytes, file.Length - file.Position), SeekOrigin.Current);

    private static InvalidMediaException Corrupt(string source, string what) =>
        new($"Audio '{source}' is not a readable WAV file: {what}. The file is corrupt or truncated; re-export it (e.g. ffmpeg -i IN -ar 16000 OUT.wav).");

    private enum SampleKind
    {
        UInt8,
        Int16,
        Int24,
        Int32,
        Float32,
        Float64,
        Other,
    }

    private readonly record struct Format(SampleKind Kind, int Channels, int SampleRate, int BlockAlign);
}

using System.Runtime.InteropServices;
using JudgeHost.Abstractions;

namespace Modalities.Audio;

/// <summary>
/// librosa's default resampler, <c>res_type="soxr_hq"</c>: python-soxr's <c>soxr.resample(x, in, out, "HQ")</c>
/// (its <c>csoxr_divide_proc</c>: one libsoxr stream, float32 in and out, <c>soxr_quality_spec(SOXR_HQ, 0)</c>, input
/// fed in chunks of <c>48000·in/out</c> samples, then flushed) followed by librosa's <c>fix_length</c> to
/// <c>ceil(n·out/in)</c> samples. Calls the system's libsoxr (Debian: libsoxr0, which ffmpeg's libswresample already
/// depends on) through P/Invoke.
/// </summary>
internal static partial class SoxrResampler
{
    private const string Library = "libsoxr.so.0";
    private const uint SoxrFloat32I = 0;
    private const uint SoxrHq = 4; // SOXR_20_BITQ

    /// <summary>Resamples mono float32 audio; returns exactly <c>ceil(x.Length · outRate / inRate)</c> samples.</summary>
    /// <exception cref="InvalidMediaException">libsoxr is not installed (named in the message) or refuses the rates.</exception>
    public static float[] Resample(float[] x, double inRate, double outRate, string source)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (inRate == outRate)
        {
            return x;
        }

        // librosa.resample: ratio = float(target_sr) / orig_sr; n_samples = int(np.ceil(y.shape[-1] * ratio)).
        int target = checked((int)Math.Ceiling(x.Length * (outRate / inRate)));
        var y = Process(x, inRate, outRate, source);
        if (y.Length == target)
        {
            return y;
        }

        var fixedLength = new float[target]; // util.fix_length: zero-pad or cut at the end
        Array.Copy(y, fixedLength, Math.Min(y.Length, target));
        return fixedLength;
    }

    private static unsafe float[] Process(float[] x, double inRate, double outRate, string source)
    {
        IntPtr soxr;
        try
        {
            var io = soxr_io_spec(SoxrFloat32I, SoxrFloat32I);
            var quality = soxr_quality_spec(SoxrHq, 0);
            IntPtr error;
            soxr = soxr_create(inRate, outRate, 1, &error, &io, &quality, null);
            if (error != IntPtr.Zero)
            {
                throw new InvalidMediaException($"Audio '{source}' cannot be resampled from {inRate} Hz to {outRate} Hz: libsoxr says '{Marshal.PtrToStringUTF8(error)}'.");
            }
        }
        catch (DllNotFoundException e)
        {
            throw new LibsoxrNotFoundException(
                $"Audio '{source}' is sampled at {inRate} Hz and must be resampled to {outRate} Hz, which needs libsoxr ({Library}). Install it (Debian: apt-get install libsoxr0; ffmpeg pulls it in) or give 16 kHz audio.", e);
        }

        try
        {
            // python-soxr csoxr_divide_proc: olen = ilen * out_rate / in_rate + 1; chunk_len = 48000 * in_rate / out_rate (size_t).
            ulong ilen = (ulong)x.Length;
            ulong olen = (ulong)((ilen * outRate / inRate) + 1);
            ulong chunk = (ulong)(48000 * inRate / outRate);
            var y = new float[olen];
            ulong outPos = 0;
            nuint odone;
            IntPtr error = IntPtr.Zero;
            fixed (float* input = x)
            fixed (float* output = y)
            {
                for (ulong idx = 0; idx < ilen; idx += chunk)
                {
                    error = soxr_process(soxr, input + idx, (nuint)Math.Min(chunk, ilen - idx), null, output + outPos, (nuint)(olen - outPos), &odone);
                    outPos += odone;
                }

                error = soxr_process(soxr, null, 0, null, output + outPos, (nuint)(olen - outPos), &odone);
                outPos += odone;
            }

            if (error != IntPtr.Zero)
            {
                throw new InvalidMediaException($"Audio '{source}' failed to resample: libsoxr says '{Marshal.PtrToStringUTF8(error)}'.");
            }

            return outPos == olen ? y : y.AsSpan(0, (int)outPos).ToArray();
        }
        finally
        {
            soxr_delete(soxr);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SoxrIoSpec
    {
        public uint Itype;
        public uint Otype;
        public double Scale;
        public IntPtr E;
        public nuint Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SoxrQualitySpec
    {
        public double Precision;
        public double PhaseResponse;
        public double PassbandEnd;
        public double StopbandBegin;
        public IntPtr E;
        public nuint Flags;
    }

    [LibraryImport(Library)]
    private static partial SoxrIoSpec soxr_io_spec(uint itype, uint otype);

    [LibraryImport(Library)]
    private static partial SoxrQualitySpec soxr_quality_spec(nuint recipe, nuint flags);

    [LibraryImport(Library)]
    private static unsafe partial IntPtr soxr_create(double inputRate, double outputRate, uint numChannels, IntPtr* error, SoxrIoSpec* ioSpec, SoxrQualitySpec* qualitySpec, void* runtimeSpec);

    [LibraryImport(Library)]
    private static unsafe partial IntPtr soxr_process(IntPtr resampler, float* input, nuint ilen, nuint* idone, float* output, nuint olen, nuint* odone);

    [LibraryImport(Library)]
    private static partial void soxr_delete(IntPtr resampler);
}

/// <summary>libsoxr is not installed: an environment error, exit code 2.</summary>
public sealed class LibsoxrNotFoundException(string message, Exception? inner) : JudgeHostException(message, inner);

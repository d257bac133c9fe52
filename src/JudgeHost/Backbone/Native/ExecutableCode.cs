using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace JudgeHost.Backbone.Native;

/// <summary>
/// The AVX512-BF16 kernels of <c>bf16_dot.c</c>, mapped into executable memory once per process. .NET has no
/// intrinsic for VDPBF16PS, and a fresh machine has no C compiler, so the kernels ship as the machine code that
/// tools/native/build-kernels.sh compiled (position-independent, no relocations, no data) and are copied into a
/// page mapped read-write, then made read-execute with <c>mprotect</c>. Available only on x64 Linux CPUs with
/// AVX512-BF16 (the CPUID leaf 7 sub-leaf 1 EAX bit 5) and an OS that keeps the AVX-512 state; elsewhere
/// <see cref="Gemm"/> is null and callers keep their fp32 kernels.
/// </summary>
internal static unsafe class ExecutableCode
{
    /// <summary>
    /// <c>judgehost_bf16_gemm(w, x, y, bias, m, n, k, from, to)</c>: output columns [from, to) of y (m × n bf16) =
    /// x (m × k bf16) Wᵀ (n × k bf16) + bias (n bf16, or null); k a multiple of 32, 1 ≤ m ≤ 64.
    /// </summary>
    public static readonly delegate* unmanaged<ushort*, ushort*, ushort*, ushort*, long, long, long, long, long, void> Gemm;

    /// <summary>Why the kernels are not in use here, or null where they are.</summary>
    public static readonly string? Unavailable;

    public static bool Available => Unavailable is null;

    static ExecutableCode()
    {
        Unavailable = Probe();
        if (Unavailable is not null)
        {
            return;
        }

        try
        {
            byte* code = Map(Bf16DotCode.Bytes);
            Gemm = (delegate* unmanaged<ushort*, ushort*, ushort*, ushort*, long, long, long, long, long, void>)(code + Bf16DotCode.GemmOffset);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            Unavailable = $"the kernels could not be mapped executable: {e.Message}";
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return "not x64 Linux";
        }

        if (!Avx512F.IsSupported || !Avx512BW.IsSupported || !Avx512F.VL.IsSupported)
        {
            return "no AVX-512 (F, BW, VL)";
        }

        int leaf7Sub1Eax = X86Base.CpuId(7, 1).Eax;
        return (leaf7Sub1Eax & (1 << 5)) == 0 ? "no AVX512-BF16" : null;
    }

    private static byte* Map(ReadOnlySpan<byte> bytes)
    {
        const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;
        nint libc = NativeLibrary.Load("libc.so.6");
        var mmap = (delegate* unmanaged<nint, nuint, int, int, int, nint, nint>)NativeLibrary.GetExport(libc, "mmap");
        var mprotect = (delegate* unmanaged<nint, nuint, int, int>)NativeLibrary.GetExport(libc, "mprotect");
        nuint length = (nuint)((bytes.Length + 4095) & ~4095);
        nint page = mmap(0, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (page == -1)
        {
            throw new InvalidOperationException($"mmap of {length} bytes failed (errno {Marshal.GetLastSystemError()})");
        }

        bytes.CopyTo(new Span<byte>((void*)page, bytes.Length));
        if (mprotect(page, length, ProtRead | ProtExec) != 0)
        {
            throw new InvalidOperationException($"mprotect to read-execute failed (errno {Marshal.GetLastSystemError()})");
        }

        return (byte*)page;
    }
}

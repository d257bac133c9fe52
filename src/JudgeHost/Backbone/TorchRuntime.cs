using System.Text.RegularExpressions;
using JudgeHost.Abstractions;
using TorchSharp;

namespace JudgeHost.Backbone;

/// <summary>Device selection and a self-check of the native torch runtime.</summary>
public static partial class TorchRuntime
{
    /// <summary>Whether <paramref name="spec"/> is a device choice this host understands.</summary>
    public static bool IsDeviceSpec(string? spec) => spec is not null && DeviceSpec().IsMatch(spec);

    /// <summary>
    /// Resolves <c>cpu</c>, <c>cuda[:N]</c> or <c>auto</c>. A CUDA request on a machine whose libtorch has no CUDA
    /// support is a user error with a clear message, never a silent fall-back.
    /// </summary>
    public static torch.Device ResolveDevice(string spec)
    {
        try
        {
            return ResolveDeviceCore(spec);
        }
        catch (TypeInitializationException e)
        {
            throw NativeLoadFailure(e);
        }
    }

    private static torch.Device ResolveDeviceCore(string spec)
    {
        if (!IsDeviceSpec(spec))
        {
            throw new JudgeHostException($"Unknown device '{spec}'. Use cpu, cuda, cuda:N or auto.");
        }

        bool cuda = CudaAvailable();
        if (spec == "auto")
        {
            return cuda ? torch.CUDA : torch.CPU;
        }

        if (spec.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!cuda)
            {
                throw new JudgeHostException(
                    $"Device '{spec}' was requested but CUDA is not available: this build carries the CPU libtorch (libtorch-cpu-linux-x64) or no GPU is visible. Use --device cpu, or install a CUDA libtorch package (libtorch-cuda-12.x-linux-x64) and run on a machine with an NVIDIA GPU.");
            }

            var device = torch.device(spec);
            if (device.index >= torch.cuda.device_count())
            {
                throw new JudgeHostException($"Device '{spec}' does not exist; this machine has {torch.cuda.device_count()} CUDA device(s).");
            }

            return device;
        }

        return torch.CPU;
    }

    /// <summary>True when libtorch was built with CUDA and a device is visible.</summary>
    public static bool CudaAvailable()
    {
        try
        {
            return torch.cuda.is_available();
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
        {
            return false;
        }
    }

    /// <summary>Loads libtorch and runs a small matrix product on <paramref name="device"/>, proving the runtime works.</summary>
    /// <returns>A description: libtorch version, device, threads and the checked product.</returns>
    public static RuntimeReport SelfCheck(torch.Device device)
    {
        try
        {
            using var scope = torch.NewDisposeScope();
            var a = torch.arange(6, dtype: torch.float32, device: device).reshape(2, 3);   // [2, 3]
            var product = a.matmul(a.t()).cpu();                                         // [2, 2]
            float[] values = product.data<float>().ToArray();
            return new RuntimeReport(torch.__version__, device.ToString(), torch.get_num_threads(), CudaAvailable(), values);
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
        {
            throw NativeLoadFailure(e);
        }
    }

    private static JudgeHostException NativeLoadFailure(Exception e)
    {
        string first = (e.InnerException ?? e).Message.Split('\n')[0];
        return new JudgeHostException(
            $"The native torch runtime could not be loaded ({first}). On Debian 12 this usually means the libstdc++ compatibility patch was not applied to libLibTorchSharp.so; rebuild with 'dotnet build' (it patches the output) and run from the build output.", e);
    }

    /// <summary>
    /// Lets libtorch back large CPU allocations with transparent huge pages (THP_MEM_ALLOC_ENABLE=1), which
    /// roughly doubles checkpoint load speed on this kind of VM (first touch of fresh 4 KiB pages dominates).
    /// libtorch reads the variable with getenv, which .NET's Environment.SetEnvironmentVariable does not reach on
    /// Linux, so it is set through libc. Call before the first torch operation; an explicit setting is kept.
    /// </summary>
    public static void EnableHugePageAllocations()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = NativeMethods.setenv("THP_MEM_ALLOC_ENABLE", "1", 0);
        }
    }

    [GeneratedRegex("^(cpu|auto|cuda(:[0-9]+)?)$")]
    private static partial Regex DeviceSpec();
}

/// <summary>What <see cref="TorchRuntime.SelfCheck"/> found.</summary>
public sealed record RuntimeReport(string TorchVersion, string Device, int Threads, bool CudaAvailable, IReadOnlyList<float> Check);

internal static partial class NativeMethods
{
    [System.Runtime.InteropServices.LibraryImport("libc", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    internal static partial int setenv(string name, string value, int overwrite);
}

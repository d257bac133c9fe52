using Microsoft.Extensions.Options;

namespace JudgeHost.Backbone;

/// <summary>Where and how tensors run. Bound from the <c>Torch</c> section.</summary>
public sealed class TorchOptions
{
    public const string Section = "Torch";

    /// <summary><c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or <c>auto</c> (CUDA when present, else CPU).</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Intra-op threads; 0 keeps libtorch's default (one per core).</summary>
    public int Threads { get; set; }
}

/// <summary>Checks <see cref="TorchOptions"/> at start-up.</summary>
public sealed class TorchOptionsValidator : IValidateOptions<TorchOptions>
{
    public ValidateOptionsResult Validate(string? name, TorchOptions options)
    {
        var failures = new List<string>();
        if (!TorchRuntime.IsDeviceSpec(options.Device))
        {
            failures.Add($"Torch:Device '{options.Device}' is not one of cpu, cuda, cuda:N, auto.");
        }

        if (options.Threads < 0)
        {
            failures.Add($"Torch:Threads is {options.Threads}; use 0 (default) or a positive count.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

using JudgeHost.Abstractions;

namespace FutureContractPlugin;

/// <summary>A plugin compiled against contract 2.0: the host (contract 1.x) must refuse it before loading.</summary>
public sealed class FutureContractPlugin : IModalityPlugin
{
    public string Name => "FutureContract";

    public void Register(IDictionary<string, object> services)
    {
    }
}

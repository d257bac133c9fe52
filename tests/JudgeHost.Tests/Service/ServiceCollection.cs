namespace JudgeHost.Tests.Service;

/// <summary>
/// Servers of one process share OpenTelemetry's meters by name (a server's /metrics would count another's requests),
/// so tests that start servers run one at a time, as one server per process does in production.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServiceCollection
{
    public const string Name = "Service";
}

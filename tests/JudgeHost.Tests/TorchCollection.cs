namespace JudgeHost.Tests;

/// <summary>Tests that touch libtorch's global state (threads, dispose scopes) run one at a time.</summary>
[CollectionDefinition("Torch", DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "Torch";
}

using System.Collections.Concurrent;
using JudgeHost.Judging;
using JudgeHost.Tests.Judging;

namespace JudgeHost.Tests.Service;

/// <summary>
/// A scripted backend whose calls can be held at a gate, so tests decide when a batch finishes: requests pile up in
/// the scheduler's queue meanwhile. Records each call's prompt count and user texts; a prompt containing
/// <c>CRASH</c> makes the call throw as a crashing plugin would.
/// </summary>
public sealed class GatedBackend(Func<JudgePrompt, string> script) : IJudgeBackend, IDisposable
{
    private readonly ScriptedBackend _inner = new(script);
    private readonly ManualResetEventSlim _gate = new(true);
    private readonly SemaphoreSlim _entered = new(0);

    public ConcurrentQueue<IReadOnlyList<string>> Calls { get; } = new();

    public IReadOnlySet<string> Modalities => _inner.Modalities;

    public void Close() => _gate.Reset();

    public void Open() => _gate.Set();

    /// <summary>Waits until a call has entered the backend (and is held at the gate when it is closed).</summary>
    public Task<bool> EnteredAsync() => _entered.WaitAsync(TimeSpan.FromSeconds(20));

    public void Dispose()
    {
        _gate.Dispose();
        _entered.Dispose();
    }

    public IReadOnlyList<GenerationOutput> Generate(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue([.. prompts.Select(p => p.User)]);
        _entered.Release();
        _gate.Wait(cancellationToken);
        if (prompts.Any(p => p.User.Contains("CRASH", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException("the fake plugin crashed");
        }

        return _inner.Generate(prompts, settings, cancellationToken);
    }
}

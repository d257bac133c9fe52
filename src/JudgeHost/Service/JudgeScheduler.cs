using System.Diagnostics;
using JudgeHost.Abstractions;
using JudgeHost.Judging;

namespace JudgeHost.Service;

/// <summary>What one backbone batch carried and produced.</summary>
/// <param name="Requests">Work items (judge calls of HTTP requests) merged into the batch.</param>
/// <param name="Prompts">Prompts (rows) of the batch.</param>
/// <param name="PromptTokens">Prompt tokens over all rows (as the backend counts them).</param>
/// <param name="GeneratedTokens">Tokens generated over all rows.</param>
/// <param name="Seconds">Wall time of the batch.</param>
public sealed record BatchStats(int Requests, int Prompts, int PromptTokens, int GeneratedTokens, double Seconds);

/// <summary>
/// Dynamic batching in front of the one model: an <see cref="IJudgeBackend"/> that many request threads call at once.
/// Each call becomes a work item in a queue; one worker thread (the only thread that runs the model) takes the first
/// item, waits up to the batch window for more, and runs every queued item with the same generation settings as one
/// backend call of at most <c>maxBatch</c> prompts, so the backend batches rows across requests and shares the
/// prefilled prefix of prompts with the same media + instruction. A work item whose caller cancels (client gone,
/// timeout) leaves the queue; a running batch is cancelled only when every item in it is. When a batch fails with
/// anything but a cancellation, its items run again one by one, so one request's plugin crash fails that request only.
/// </summary>
public sealed class JudgeScheduler : IJudgeBackend, IDisposable
{
    private readonly IJudgeBackend _inner;
    private readonly int _maxBatch;
    private readonly TimeSpan _window;
    private readonly bool _merge;
    private readonly object _gate = new();
    private readonly LinkedList<Work> _queue = new();
    private readonly Thread _worker;
    private string? _closedReason;
    private bool _disposed;
    private int _queuedPrompts;

    public JudgeScheduler(IJudgeBackend inner, int maxBatch, TimeSpan window, bool dynamicBatching)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _inner = inner;
        _maxBatch = maxBatch;
        _window = window;
        _merge = dynamicBatching;
        _worker = new Thread(Loop) { IsBackground = true, Name = "judgehost-scheduler" };
        _worker.Start();
    }

    /// <summary>Called on the worker thread after every backend call.</summary>
    public event Action<BatchStats>? BatchCompleted;

    public IReadOnlySet<string> Modalities => _inner.Modalities;

    /// <summary>Prompts waiting for a batch.</summary>
    public int QueuedPrompts => Volatile.Read(ref _queuedPrompts);

    /// <summary>Batches run so far.</summary>
    public int Batches { get; private set; }

    /// <summary>
    /// Queues <paramref name="prompts"/> and blocks until their batch ran. <see cref="IJudgeBackend"/> is synchronous:
    /// the judging pipeline of each HTTP request runs on a thread of its own, so this waits on that thread only.
    /// </summary>
    public IReadOnlyList<GenerationOutput> Generate(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, CancellationToken cancellationToken = default) =>
        SubmitAsync(prompts, settings, cancellationToken).GetAwaiter().GetResult();

    public Task<IReadOnlyList<GenerationOutput>> SubmitAsync(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (prompts.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<GenerationOutput>>([]);
        }

        var work = new Work(prompts, settings, SettingsKey(settings), ct);
        lock (_gate)
        {
            if (_closedReason is not null)
            {
                throw new ServiceException(503, _closedReason) { RetryAfterSeconds = 5 };
            }

            work.Node = _queue.AddLast(work);
            _queuedPrompts += prompts.Count;
            Monitor.PulseAll(_gate);
        }

        // A caller that gives up while its work is still queued takes it out; once running, the batch decides.
        work.Registration = ct.Register(() =>
        {
            lock (_gate)
            {
                if (work.Node?.List is not null)
                {
                    _queue.Remove(work.Node);
                    _queuedPrompts -= work.Prompts.Count;
                }
            }

            work.Cancelled();
        });
        return work.Completion.Task;
    }

    /// <summary>Stops taking work: queued items and later calls fail with 503 and <paramref name="reason"/>; a running batch finishes.</summary>
    public void Close(string reason)
    {
        List<Work> rejected;
        lock (_gate)
        {
            _closedReason ??= reason;
            rejected = [.. _queue];
            _queue.Clear();
            _queuedPrompts = 0;
            Monitor.PulseAll(_gate);
        }

        foreach (var work in rejected)
        {
            work.Completion.TrySetException(new ServiceException(503, reason) { RetryAfterSeconds = 5 });
        }
    }

    public void Dispose()
    {
        Close("The judge service is shutting down; the request was not run. Retry against a running server.");
        lock (_gate)
        {
            _disposed = true;
            Monitor.PulseAll(_gate);
        }

        _worker.Join(TimeSpan.FromSeconds(30));
    }

    private static string SettingsKey(GenerationSettings s) =>
        FormattableString.Invariant($"{s.MaxNewTokens}|{s.Temperature}|{s.TopP}|{s.Seed}|{string.Join("\u0001", s.StopStrings)}");

    private void Loop()
    {
        while (Next() is { } batch)
        {
            Run(batch);
        }
    }

    // The next batch: the oldest item plus (when merging) every queued item with its settings, up to maxBatch prompts.
    private List<Work>? Next()
    {
        lock (_gate)
        {
            while (_queue.Count == 0)
            {
                if (_disposed)
                {
                    return null;
                }

                Monitor.Wait(_gate);
            }

            if (_merge && _window > TimeSpan.Zero)
            {
                var deadline = Stopwatch.StartNew();
                while (!_disposed && _queuedPrompts < _maxBatch && deadline.Elapsed < _window)
                {
                    Monitor.Wait(_gate, _window - deadline.Elapsed);
                }
            }

            if (_queue.Count == 0)
            {
                return _disposed ? null : [];
            }

            var first = _queue.First!.Value;
            var batch = new List<Work> { first };
            int prompts = first.Prompts.Count;
            for (var node = _queue.First.Next; _merge && node is not null && prompts < _maxBatch; node = node.Next)
            {
                if (node.Value.Key == first.Key && prompts + node.Value.Prompts.Count <= _maxBatch)
                {
                    batch.Add(node.Value);
                    prompts += node.Value.Prompts.Count;
                }
            }

            foreach (var work in batch)
            {
                _queue.Remove(work.Node!);
                _queuedPrompts -= work.Prompts.Count;
            }

            return batch;
        }
    }

    private void Run(List<Work> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        using var cancel = new CancellationTokenSource();
        int live = batch.Count;
        foreach (var work in batch)
        {
            work.OnCancel = () =>
            {
                if (work.CountOut() && Interlocked.Decrement(ref live) == 0)
                {
                    cancel.Cancel();
                }
            };
            if (work.Token.IsCancellationRequested)
            {
                work.OnCancel();
            }
        }

        var prompts = batch.SelectMany(w => w.Prompts).ToArray();
        var clock = Stopwatch.StartNew();
        try
        {
            var outputs = cancel.IsCancellationRequested ? throw new OperationCanceledException(cancel.Token) : _inner.Generate(prompts, batch[0].Settings, cancel.Token);
            Batches++;
            BatchCompleted?.Invoke(new BatchStats(batch.Count, prompts.Length, outputs.Sum(o => o.PromptTokens), outputs.Sum(o => o.Tokens), clock.Elapsed.TotalSeconds));
            int at = 0;
            foreach (var work in batch)
            {
                work.Completion.TrySetResult(outputs.Skip(at).Take(work.Prompts.Count).ToArray());
                at += work.Prompts.Count;
            }
        }
        catch (OperationCanceledException)
        {
            foreach (var work in batch)
            {
                work.Completion.TrySetCanceled(work.Token.IsCancellationRequested ? work.Token : cancel.Token);
            }
        }
        catch (Exception) when (batch.Count > 1)
        {
            // Which item broke it is unknown: run each alone, so only the one that fails again fails.
            foreach (var work in batch)
            {
                work.OnCancel = null;
                work.ResetCount();
                Run([work]);
            }
        }
        catch (Exception e)
        {
            batch[0].Completion.TrySetException(e is JudgeHostException { IsUserError: true }
                ? e
                : new ServiceException(500, $"The judge failed on this request ({e.GetType().Name}: {e.Message}); other requests were not affected. Check the request's media, or report the failure with the server log.", e)
                {
                    IsUserError = false,
                });
        }
        finally
        {
            foreach (var work in batch)
            {
                work.Registration.Dispose();
            }
        }
    }

    private sealed class Work(IReadOnlyList<JudgePrompt> prompts, GenerationSettings settings, string key, CancellationToken token)
    {
        public IReadOnlyList<JudgePrompt> Prompts => prompts;

        public GenerationSettings Settings => settings;

        public string Key => key;

        public CancellationToken Token => token;

        public TaskCompletionSource<IReadOnlyList<GenerationOutput>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Work>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        private int _countedOut;

        // Set while the work is in a running batch: counts it out of the batch's live items.
        public Action? OnCancel { get; set; }

        /// <summary>True the first time only: a cancelled item leaves its batch's count once.</summary>
        public bool CountOut() => Interlocked.Exchange(ref _countedOut, 1) == 0;

        public void ResetCount() => Volatile.Write(ref _countedOut, 0);

        public void Cancelled()
        {
            Completion.TrySetCanceled(token);
            OnCancel?.Invoke();
        }
    }
}

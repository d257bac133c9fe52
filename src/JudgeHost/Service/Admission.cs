namespace JudgeHost.Service;

/// <summary>
/// The bounded queue's front door: at most <c>maxQueue</c> requests are admitted (queued or running) at once; a
/// request beyond that is refused at once with 429 and a Retry-After estimated from recent request durations, so
/// clients back off instead of piling up. Closed on shutdown (503).
/// </summary>
public sealed class Admission(int maxQueue)
{
    private int _inFlight;
    private double _recentSeconds = 1;
    private volatile string? _closedReason;

    public int InFlight => Volatile.Read(ref _inFlight);

    public bool IsOpen => _closedReason is null;

    /// <summary>Admits a request or throws 429 (full) / 503 (closed); dispose the ticket when the request is answered.</summary>
    public Ticket Enter()
    {
        if (_closedReason is { } reason)
        {
            throw new ServiceException(503, reason) { RetryAfterSeconds = 5 };
        }

        if (Interlocked.Increment(ref _inFlight) > maxQueue)
        {
            Interlocked.Decrement(ref _inFlight);
            int retry = (int)Math.Clamp(Math.Ceiling(Volatile.Read(ref _recentSeconds)), 1, 60);
            throw new ServiceException(429, $"The judge queue is full ({maxQueue} requests queued or running). Retry after {retry} s, or send fewer requests at once (batch them into /v1/judge/batch).")
            {
                RetryAfterSeconds = retry,
            };
        }

        return new Ticket(this);
    }

    public void Close(string reason) => _closedReason ??= reason;

    private void Leave(double seconds)
    {
        Interlocked.Decrement(ref _inFlight);

        // A moving average of request durations: the wait a refused client should expect before a slot frees.
        double old = Volatile.Read(ref _recentSeconds);
        Volatile.Write(ref _recentSeconds, (0.8 * old) + (0.2 * seconds));
    }

    /// <summary>One admitted request.</summary>
    public sealed class Ticket(Admission owner) : IDisposable
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                owner.Leave(_clock.Elapsed.TotalSeconds);
            }
        }
    }
}

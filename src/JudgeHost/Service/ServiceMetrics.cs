using System.Diagnostics.Metrics;

namespace JudgeHost.Service;

/// <summary>
/// The service's instruments (System.Diagnostics.Metrics, exported by OpenTelemetry's Prometheus exporter at
/// <c>/metrics</c>): requests by endpoint and status code, latency, rejections, queue depth, requests in flight, backbone
/// batch sizes, prompt and generated tokens, tokens/s of the last batch, judgments by status and the parse-failure rate.
/// </summary>
public sealed class ServiceMetrics
{
    public const string MeterName = "JudgeHost.Service";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _rejected;
    private readonly Histogram<int> _batchPrompts;
    private readonly Histogram<int> _batchRequests;
    private readonly Counter<long> _promptTokens;
    private readonly Counter<long> _generatedTokens;
    private readonly Counter<long> _judgments;
    private double _tokensPerSecond;
    private long _ok;
    private long _unparsed;

    public ServiceMetrics(IMeterFactory factory, Func<int> queuedPrompts, Func<int> inFlight)
    {
        var meter = factory.Create(MeterName);
        _requests = meter.CreateCounter<long>("judgehost.requests", description: "HTTP requests answered, by endpoint and status code.");
        _latency = meter.CreateHistogram<double>("judgehost.request.duration", "s", "Time from receiving a request to answering it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });
        _rejected = meter.CreateCounter<long>("judgehost.rejected", description: "Requests refused or abandoned: queue_full, timeout, shutdown, client_gone.");
        _batchPrompts = meter.CreateHistogram<int>("judgehost.batch.prompts", description: "Prompts (rows) per backbone batch.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _batchRequests = meter.CreateHistogram<int>("judgehost.batch.requests", description: "Requests merged into one backbone batch.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64] });
        _promptTokens = meter.CreateCounter<long>("judgehost.tokens.prompt", description: "Prompt tokens run through the backbone.");
        _generatedTokens = meter.CreateCounter<long>("judgehost.tokens.generated", description: "Tokens generated.");
        _judgments = meter.CreateCounter<long>("judgehost.judgments", description: "Judgments made, by status (ok, unparsed, error).");
        meter.CreateObservableGauge("judgehost.queue.depth", queuedPrompts, description: "Prompts waiting for a backbone batch.");
        meter.CreateObservableGauge("judgehost.requests.in_flight", inFlight, description: "Requests admitted and not yet answered (queued or running).");
        meter.CreateObservableGauge("judgehost.tokens_per_second", () => Volatile.Read(ref _tokensPerSecond), description: "Generated tokens per second of the last backbone batch.");
        meter.CreateObservableGauge("judgehost.parse_failure_rate", ParseFailureRate, description: "Share of judgments (ok + unparsed) whose verdict could not be read.");
    }

    public void Request(string endpoint, int statusCode, double seconds)
    {
        var tags = new KeyValuePair<string, object?>[] { new("endpoint", endpoint), new("code", statusCode) };
        _requests.Add(1, tags);
        _latency.Record(seconds, new KeyValuePair<string, object?>("endpoint", endpoint));
    }

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Batch(BatchStats stats)
    {
        _batchPrompts.Record(stats.Prompts);
        _batchRequests.Record(stats.Requests);
        _promptTokens.Add(stats.PromptTokens);
        _generatedTokens.Add(stats.GeneratedTokens);
        Volatile.Write(ref _tokensPerSecond, stats.Seconds > 0 ? stats.GeneratedTokens / stats.Seconds : 0);
    }

    public void Judgment(string status)
    {
        _judgments.Add(1, new KeyValuePair<string, object?>("status", status));
        if (status == "ok")
        {
            Interlocked.Increment(ref _ok);
        }
        else if (status == "unparsed")
        {
            Interlocked.Increment(ref _unparsed);
        }
    }

    private double ParseFailureRate()
    {
        long ok = Interlocked.Read(ref _ok), unparsed = Interlocked.Read(ref _unparsed);
        return ok + unparsed == 0 ? 0 : (double)unparsed / (ok + unparsed);
    }
}

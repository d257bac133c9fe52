using System.Collections.Concurrent;
using System.Diagnostics;
using JudgeHost.Backbone;
using JudgeHost.Client;
using JudgeOptions = JudgeHost.Judging.JudgeOptions;
using TextJudgeBackend = JudgeHost.Judging.TextJudgeBackend;
using JudgeHost.Service;
using static TorchSharp.torch;

namespace JudgeHost.Bench;

/// <summary>
/// Load test of <c>judgehost serve</c> on loopback: N concurrent clients, each sending a fixed number of pointwise
/// requests (distinct questions) through the typed client, against a small random checkpoint; once with dynamic
/// batching and once without (each call alone), in the same process. Prints requests/s and p50/p99 latency, and
/// checks that every request got exactly one answer with its own id and the server judged each exactly once.
/// Bounded: clients × requests per client, each call with a timeout; nothing but 127.0.0.1 is contacted.
/// </summary>
public static class ServeLoadBench
{
    public static int Run(bool quick, TextWriter output)
    {
        int clients = quick ? 8 : 16;
        int perClient = quick ? 3 : 6;
        var shape = new TinyCheckpoint.Shape(0, 256, 768, 4, 4, 2);
        string dir = Path.Combine(Path.GetTempPath(), $"judgehost-bench-serve-{shape.Hidden}-{shape.Layers}");
        if (!File.Exists(Path.Combine(dir, "model.safetensors")))
        {
            TinyCheckpoint.WriteWithTokenizer(dir, "qwen2", shape, Path.Combine(BestOfNBench.RepoRoot(), "tests", "JudgeHost.Tests", "Fixtures", "tokenizers", "qwen3"), tied: true, seed: 1);
        }

        using var model = TextModel.Load(dir, ScalarType.Float32, CPU);
        var judge = new JudgeOptions { MaxNewTokens = 24 };
        output.WriteLine($"serve load: {clients} clients x {perClient} pointwise requests, random checkpoint hidden {shape.Hidden} x {shape.Layers} layers, {judge.MaxNewTokens} new tokens max, loopback");
        var baseline = Measure(model, judge, clients, perClient, batching: false, output);
        var batched = Measure(model, judge, clients, perClient, batching: true, output);
        output.WriteLine($"dynamic batching: {batched.Rps / baseline.Rps:F2}x requests/s, p50 {baseline.P50 / batched.P50:F2}x lower, p99 {baseline.P99 / batched.P99:F2}x lower");
        return baseline.Ok && batched.Ok ? 0 : 1;
    }

    private sealed record Result(double Rps, double P50, double P99, bool Ok);

    private static Result Measure(TextModel model, JudgeOptions judge, int clients, int perClient, bool batching, TextWriter output)
    {
        var backend = new TextJudgeBackend(model.Generator, model.RequireTokenizer(), model.RequireTemplate(), model.EosIds);
        var options = new ServeOptions { Urls = "http://127.0.0.1:0", DynamicBatching = batching, MaxBatch = 64, BatchWindowMs = 2, MaxQueue = clients * 2, TimeoutSeconds = 600 };
        var server = JudgeServer.Create(options, judge, backend, "bench", TextWriter.Null);
        server.StartAsync().GetAwaiter().GetResult();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(server.Addresses[0] + "/"), Timeout = TimeSpan.FromMinutes(10) };
            using var client = new JudgeClient(http, new JudgeClientOptions { MaxRetries = 10 });
            var latencies = new ConcurrentBag<double>();
            var answered = new ConcurrentDictionary<string, int>();
            var mismatched = 0;

            // Warm-up outside the clock (first forward allocates).
            client.JudgeAsync(new JudgeRequest { Id = "warm", Task = JudgeTask.Pointwise, Instruction = "Warm up.", Candidates = ["x"] }).GetAwaiter().GetResult();
            int batchesBefore = server.Scheduler.Batches;
            var clock = Stopwatch.StartNew();
            var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                for (int i = 0; i < perClient; i++)
                {
                    string id = $"c{c}-r{i}";
                    var started = Stopwatch.StartNew();
                    var result = await client.JudgeAsync(new JudgeRequest
                    {
                        Id = id, Task = JudgeTask.Pointwise, Instruction = $"Client {c} asks question {i}: how many letters are in the word number {c * 31 + i}?",
                        Candidates = [$"There are {(c + i) % 9} letters."],
                    });
                    latencies.Add(started.Elapsed.TotalMilliseconds);
                    answered.AddOrUpdate(result.Id, 1, (_, n) => n + 1);
                    if (result.Id != id)
                    {
                        Interlocked.Increment(ref mismatched);
                    }
                }
            })).ToArray();
            Task.WaitAll(tasks);
            double seconds = clock.Elapsed.TotalSeconds;
            int batches = server.Scheduler.Batches - batchesBefore;
            string metrics = http.GetStringAsync("metrics").GetAwaiter().GetResult();
            long judged = metrics.Split('\n').Where(l => l.StartsWith("judgehost_judgments_total{", StringComparison.Ordinal))
                .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

            int total = clients * perClient;
            var sorted = latencies.Order().ToArray();
            double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
            bool ok = answered.Count == total && answered.Values.All(n => n == 1) && mismatched == 0 && judged == total + 1;
            var result = new Result(total / seconds, P(0.5), P(0.99), ok);
            output.WriteLine($"  {(batching ? "dynamic batching" : "one call at a time"),-18}: {result.Rps,6:F2} req/s, p50 {result.P50,7:F0} ms, p99 {result.P99,7:F0} ms, "
                + $"{batches} backbone batches ({(double)total / Math.Max(1, batches):F1} requests each), answers {answered.Count}/{total} unique, "
                + $"judged by the server {judged - 1}, {(ok ? "none lost or answered twice" : "MISMATCH")}");
            return result;
        }
        finally
        {
            server.StopAsync().GetAwaiter().GetResult();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

}

using System.Net;
using JudgeHost.Client;
using JudgeHost.Tests.Pipelines;

namespace JudgeHost.Tests.Service;

/// <summary>
/// Dynamic batching, back-pressure, timeouts, cancellation, fault isolation and shutdown, made deterministic by a
/// backend held at a gate: while the first batch is held, later requests wait in the scheduler's queue.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ServiceLoadBehaviourTests
{
    private static GatedBackend Judge() => new(p => QualityJudge.Honest().Generate([p], new JudgeHost.Judging.GenerationSettings(256, 0, 1, 0, []))[0].Text);

    private static JudgeRequest Pointwise(string id, string text = "q=4 a") =>
        new() { Id = id, Task = JudgeTask.Pointwise, Instruction = "Question " + id, Candidates = [text] };

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 400 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition(), "condition not reached in 10 s");
    }

    [Fact]
    public async Task ConcurrentRequests_AreMergedIntoOneBackboneBatch_EachGetsItsOwnAnswer()
    {
        var backend = Judge();
        await using var server = await TestServer.StartAsync(backend, o => o.MaxBatch = 16);
        backend.Close();
        var first = server.Client.JudgeAsync(Pointwise("first"));
        Assert.True(await backend.EnteredAsync());
        var later = Enumerable.Range(1, 5).Select(i => server.Client.JudgeAsync(Pointwise($"r{i}", $"q={i} x"))).ToArray();
        await WaitForAsync(() => server.Server.Scheduler.QueuedPrompts == 5);

        backend.Open();
        var results = await Task.WhenAll(later);

        Assert.Equal(4, (await first).Verdict!.Score);
        Assert.Equal([1.0, 2, 3, 4, 5], results.Select(r => r.Verdict!.Score!.Value));
        Assert.Equal([1, 5], backend.Calls.Select(c => c.Count));       // the five queued requests ran as one batch
        Assert.Contains("judgehost_batch_requests_bucket{otel_scope_name=\"JudgeHost.Service\",le=\"8\"} 2", await server.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutDynamicBatching_EachRequestRunsAlone()
    {
        var backend = Judge();
        await using var server = await TestServer.StartAsync(backend, o => o.DynamicBatching = false);
        backend.Close();
        var first = server.Client.JudgeAsync(Pointwise("first"));
        Assert.True(await backend.EnteredAsync());
        var later = Enumerable.Range(1, 3).Select(i => server.Client.JudgeAsync(Pointwise($"r{i}"))).ToArray();
        await WaitForAsync(() => server.Server.Scheduler.QueuedPrompts == 3);

        backend.Open();
        await Task.WhenAll(later.Append(first));

        Assert.Equal([1, 1, 1, 1], backend.Calls.Select(c => c.Count));
    }

    [Fact]
    public async Task FullQueue_Is429WithRetryAfter_AndRecovers()
    {
        var backend = Judge();
        await using var server = await TestServer.StartAsync(backend, o => o.MaxQueue = 2);
        backend.Close();
        var running = server.Client.JudgeAsync(Pointwise("a"));
        Assert.True(await backend.EnteredAsync());
        var queued = server.Client.JudgeAsync(Pointwise("b"));
        await WaitForAsync(() => server.Server.Scheduler.QueuedPrompts == 1);

        using var refused = await server.Http.PostAsync("v1/judge", System.Net.Http.Json.JsonContent.Create(Pointwise("c")));
        backend.Open();
        await Task.WhenAll(running, queued);
        var afterwards = await server.Client.JudgeAsync(Pointwise("d"));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Contains("queue is full", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("ok", afterwards.Status);
        Assert.Equal(3, backend.Calls.Count);                  // the refused request never reached the model
        Assert.Contains("judgehost_rejected_total{otel_scope_name=\"JudgeHost.Service\",reason=\"queue_full\"} 1", await server.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowRequest_Is504AfterTheTimeout()
    {
        var backend = Judge();
        await using var server = await TestServer.StartAsync(backend, o => o.TimeoutSeconds = 0.5);
        backend.Close();

        var e = await Assert.ThrowsAsync<JudgeServiceException>(() => server.Client.JudgeAsync(Pointwise("slow")));
        backend.Open();

        Assert.Equal(504, e.StatusCode);
        Assert.Contains("did not finish within 0.5 s", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientThatDisconnects_WhileQueued_NeverReachesTheModel()
    {
        var backend = Judge();
        await using var server = await TestServer.StartAsync(backend);
        backend.Close();
        var running = server.Client.JudgeAsync(Pointwise("running"));
        Assert.True(await backend.EnteredAsync());
        using var cancel = new CancellationTokenSource();
        var gone = server.Client.JudgeAsync(Pointwise("gone"), ct: cancel.Token);
        await WaitForAsync(() => server.Server.Scheduler.QueuedPrompts == 1);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone);
        await WaitForAsync(() => server.Server.Scheduler.QueuedPrompts == 0);
        backend.Open();
        await running;
        var next = await server.Client.JudgeAsync(Pointwise("next"));

        Assert.Equal("ok", next.Status);
        Assert.DoesNotContain(backend.Calls.SelectMany(c => c), u => u.Contains("Question gone", StringComparison.Ordinal));
        Assert.Equal(2, backend.Calls.Count);
        await WaitForAsync(() => server.MetricsAsync().Result.Contains("reason=\"client_gone\"} 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PluginCrashOnOneRequest_FailsOnlyThatRequest_InTheSameBatch()
    {
        var backend = Judge();
        await using var server = await TestServer.StartAsync(backend, o => o.MaxBatch = 16);
        backend.Close();
        var first = server.Client.JudgeAsync(Pointwise("first"));
        Assert.True(await backend.EnteredAsync());
        var good1 = server.Client.JudgeAsync(Pointwise("good1", "q=2 a"));
        var crash = server.Client.JudgeAsync(Pointwise("crash", "CRASH q=3"));
        var good2 = server.Client.JudgeAsync(Pointwise("good2", "q=5 a"));
        await WaitForAsync(() => server.Server.Scheduler.QueuedPrompts == 3);

        backend.Open();
        var e = await Assert.ThrowsAsync<JudgeServiceException>(() => crash);

        Assert.Equal(500, e.StatusCode);
        Assert.Contains("the fake plugin crashed", e.Detail, StringComparison.Ordinal);
        Assert.Contains("other requests were not affected", e.Detail, StringComparison.Ordinal);
        Assert.Equal(2, (await good1).Verdict!.Score);
        Assert.Equal(5, (await good2).Verdict!.Score);
        Assert.Equal(4, (await first).Verdict!.Score);
        Assert.Equal([1, 3, 1, 1, 1], backend.Calls.Select(c => c.Count));    // the merged batch failed, then each item alone
    }

    [Fact]
    public async Task Shutdown_RunningWorkFinishes_QueuedWorkIsRejected503()
    {
        var backend = Judge();
        var server = await TestServer.StartAsync(backend, o => o.DrainSeconds = 0);
        try
        {
            backend.Close();
            var running = server.Client.JudgeAsync(Pointwise("running"));
            Assert.True(await backend.EnteredAsync());
            var queued = server.Client.JudgeAsync(Pointwise("queued"));
            await WaitForAsync(() => server.Server.Scheduler.QueuedPrompts == 1);

            var stopping = server.Server.StopAsync();
            var rejected = await Assert.ThrowsAsync<JudgeServiceException>(() => queued);
            backend.Open();
            var finished = await running;
            await stopping;

            Assert.Equal(503, rejected.StatusCode);
            Assert.Contains("shutting down", rejected.Detail, StringComparison.Ordinal);
            Assert.Equal("ok", finished.Status);
            Assert.Single(backend.Calls);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}

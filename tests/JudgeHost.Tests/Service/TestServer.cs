using JudgeHost.Client;
using JudgeHost.Judging;
using JudgeHost.Service;

namespace JudgeHost.Tests.Service;

/// <summary>A real <see cref="JudgeServer"/> (Kestrel on a free loopback port) over a given backend, with a typed client.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(JudgeServer server, StringWriter log)
    {
        Server = server;
        Log = log;
        BaseAddress = new Uri(server.Addresses[0] + "/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Client = new JudgeClient(Http, new JudgeClientOptions { MaxRetries = 0 });
    }

    public JudgeServer Server { get; }

    public StringWriter Log { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public JudgeClient Client { get; }

    public static async Task<TestServer> StartAsync(IJudgeBackend backend, Action<ServeOptions>? configure = null, JudgeOptions? judge = null, JudgeHost.Abstractions.IMediaPreprocessor? molecules = null)
    {
        var options = new ServeOptions { Urls = "http://127.0.0.1:0", BatchWindowMs = 0, DrainSeconds = 2 };
        configure?.Invoke(options);
        var log = new StringWriter();
        var server = JudgeServer.Create(options, judge ?? new JudgeOptions { MaxNewTokens = 256 }, backend, "test-judge", TextWriter.Synchronized(log), molecules: molecules);
        await server.StartAsync();
        return new TestServer(server, log);
    }

    /// <summary>The Prometheus text of <c>/metrics</c>.</summary>
    public Task<string> MetricsAsync() => Http.GetStringAsync("metrics");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Http.Dispose();
        await Server.DisposeAsync();
    }
}

using System.Diagnostics.Metrics;
using JudgeHost.Abstractions;
using JudgeHost.Hosting;
using JudgeHost.Judging;
using JudgeHost.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace JudgeHost.Service;

/// <summary>
/// <c>judgehost serve</c>: one judge model behind Kestrel. Requests from many clients go through a bounded admission
/// (429 + Retry-After) into the <see cref="JudgeScheduler"/>, which batches them into the backbone; endpoints for
/// judging, rewards, best-of-N and stored jobs, health and readiness, an OpenAPI document, Prometheus metrics, and the
/// viewer. Shutdown stops admitting, lets running work finish for the drain time, then rejects what is still queued (503).
/// </summary>
public sealed class JudgeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly JudgeScheduler _scheduler;
    private readonly UploadStore _uploads;
    private readonly Admission _admission;
    private readonly VideoFrames _frames;
    private Timer? _drain;

    private JudgeServer(WebApplication app, JudgeScheduler scheduler, UploadStore uploads, Admission admission, VideoFrames frames)
    {
        _app = app;
        _scheduler = scheduler;
        _uploads = uploads;
        _admission = admission;
        _frames = frames;
    }

    /// <summary>The addresses Kestrel is bound to (after <see cref="StartAsync"/>; port 0 resolved).</summary>
    public IReadOnlyList<string> Addresses =>
        [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];

    public JudgeScheduler Scheduler => _scheduler;

    /// <summary>
    /// Builds the server over <paramref name="backend"/> (the loaded model's, or a test double). <paramref name="molecules"/>:
    /// the molecule plugin's preprocessing, for the viewer's molecule drawings (null: molecules shown as SMILES text).
    /// </summary>
    public static JudgeServer Create(ServeOptions options, JudgeOptions judgeOptions, IJudgeBackend backend, string modelName, TextWriter log, bool verbose = false, IMediaPreprocessor? molecules = null)
    {
        options.Validate();
        judgeOptions.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, EnvironmentName = Environments.Production });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TextWriterLoggerProvider(log, verbose ? LogLevel.Information : LogLevel.Warning));
        builder.WebHost.UseUrls(options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        builder.Services.Configure<FormOptions>(f =>
        {
            f.MultipartBodyLengthLimit = options.MaxBodyBytes;
            f.ValueLengthLimit = (int)Math.Min(int.MaxValue, options.MaxBodyBytes);
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(options.DrainSeconds + 5));
        builder.Services.ConfigureHttpJsonOptions(j =>
        {
            j.SerializerOptions.DefaultIgnoreCondition = JudgeJson.Options.DefaultIgnoreCondition;
            j.SerializerOptions.Encoder = JudgeJson.Options.Encoder;
        });
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "JudgeHost judge service";
            doc.Info.Description = "Judging, RL rewards and best-of-N over one multimodal reasoning judge; schemas as the judge / best-of-n JSONL (README, 'Service').";
            return Task.CompletedTask;
        }));
        builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(ServiceMetrics.MeterName)
            .AddPrometheusExporter(p => p.ScrapeResponseCacheDurationMilliseconds = 0));

        var scheduler = new JudgeScheduler(backend, options.MaxBatch, TimeSpan.FromMilliseconds(options.BatchWindowMs), options.DynamicBatching);
        var uploads = new UploadStore();
        var admission = new Admission(options.MaxQueue);
        WebApplication app;
        try
        {
            app = builder.Build();
        }
        catch
        {
            scheduler.Dispose();
            uploads.Dispose();
            throw;
        }

        var metrics = new ServiceMetrics(app.Services.GetRequiredService<IMeterFactory>(), () => scheduler.QueuedPrompts, () => admission.InFlight);
        scheduler.BatchCompleted += metrics.Batch;
        var judge = new JudgeService(scheduler, judgeOptions);
        var context = new RequestContext(options, admission, uploads, metrics);
        var frames = new VideoFrames(options.FfmpegFolder);
        var server = new JudgeServer(app, scheduler, uploads, admission, frames);

        // Answers the framework gives without a body (no route, wrong method or content type) get a problem+json saying why.
        app.UseStatusCodePages(async status =>
        {
            var response = status.HttpContext.Response;
            string detail = response.StatusCode switch
            {
                404 => $"No endpoint at {status.HttpContext.Request.Path}; see /openapi/v1.json for the endpoints.",
                405 => $"{status.HttpContext.Request.Method} is not allowed on {status.HttpContext.Request.Path}; see /openapi/v1.json.",
                415 => $"Content type '{status.HttpContext.Request.ContentType}' is not accepted; send application/json, or multipart/form-data with a '{RequestContext.RequestField}' field holding the JSON.",
                _ => $"The request failed with status {response.StatusCode}.",
            };
            await Results.Problem(detail: detail, statusCode: response.StatusCode).ExecuteAsync(status.HttpContext);
        });
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/health", () => Results.Json(new { status = "alive" })).WithTags("health").WithSummary("Liveness: the process answers.");
        app.MapGet("/ready", () =>
        {
            var ready = new ReadyResponse(admission.IsOpen ? "ready" : "draining", modelName, [.. backend.Modalities.Order(StringComparer.Ordinal)], scheduler.QueuedPrompts, admission.InFlight);
            return Results.Json(ready, JudgeJson.Options, statusCode: admission.IsOpen ? 200 : 503);
        }).WithTags("health").WithSummary("Readiness: the model is loaded and requests are admitted (503 while shutting down).").Produces<ReadyResponse>(200).Produces<ReadyResponse>(503);
        new JudgeEndpoints(judge, options, new MediaResolver(options.MediaRoot), context, metrics).Map(app);
        new JobEndpoints(options, metrics).Map(app);
        new MediaPreviewEndpoints(new MediaResolver(options.MediaRoot), frames, molecules, metrics).Map(app);
        new ViewerEndpoints(options, metrics).Map(app);

        app.Lifetime.ApplicationStopping.Register(() =>
        {
            const string Reason = "The judge service is shutting down; the request was not run. Retry against a running server.";
            admission.Close(Reason);
            server._drain = new Timer(_ => scheduler.Close(Reason), null, TimeSpan.FromSeconds(options.DrainSeconds), Timeout.InfiniteTimeSpan);
        });
        return server;
    }

    public Task StartAsync(CancellationToken ct = default) => _app.StartAsync(ct);

    /// <summary>Graceful stop: no new requests, running ones finish within the drain time, queued ones get 503.</summary>
    public Task StopAsync(CancellationToken ct = default) => _app.StopAsync(ct);

    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _admission.Close("The judge service has stopped.");
        _scheduler.Dispose();
        if (_drain is not null)
        {
            await _drain.DisposeAsync();
        }

        _uploads.Dispose();
        _frames.Dispose();
    }
}

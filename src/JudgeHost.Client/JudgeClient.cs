using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace JudgeHost.Client;

/// <summary>Settings of a <see cref="JudgeClient"/>.</summary>
public sealed class JudgeClientOptions
{
    /// <summary>How often a call refused with 429 (queue full) or 503 (shutting down) is retried after the server's Retry-After.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Longest wait between retries, whatever Retry-After says.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A typed client of <c>judgehost serve</c> for .NET generation and RL loops. Every call maps to one endpoint; a
/// refusal or failure throws <see cref="JudgeServiceException"/> with the server's status and message. Thread-safe:
/// share one client across concurrent calls (the server batches them).
/// </summary>
public sealed class JudgeClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly JudgeClientOptions _options;

    public JudgeClient(Uri baseAddress, JudgeClientOptions? options = null)
        : this(new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan }, options, ownsHttp: true)
    {
    }

    /// <summary>Uses <paramref name="http"/>, whose <see cref="HttpClient.BaseAddress"/> is the server's root.</summary>
    public JudgeClient(HttpClient http, JudgeClientOptions? options = null, bool ownsHttp = false)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _ownsHttp = ownsHttp;
        _options = options ?? new JudgeClientOptions();
    }

    /// <summary>Judges one request (<c>POST /v1/judge</c>). <paramref name="uploads"/>: part name → local file, referenced as <c>upload:NAME</c>.</summary>
    public Task<JudgeResult> JudgeAsync(JudgeRequest request, IReadOnlyDictionary<string, string>? uploads = null, CancellationToken ct = default) =>
        SendAsync<JudgeResult>("v1/judge", request, uploads, ct);

    /// <summary>Judges several requests together (<c>POST /v1/judge/batch</c>); results in request order, a bad item is an error result.</summary>
    public async Task<IReadOnlyList<JudgeResult>> JudgeBatchAsync(IReadOnlyList<JudgeRequest> requests, IReadOnlyDictionary<string, string>? uploads = null, CancellationToken ct = default) =>
        (await SendAsync<BatchAnswer>("v1/judge/batch", new { requests }, uploads, ct)).Results;

    /// <summary>Rewards for a group of candidates (<c>POST /v1/rewards</c>).</summary>
    public Task<RewardResponse> RewardsAsync(RewardRequest request, IReadOnlyDictionary<string, string>? uploads = null, CancellationToken ct = default) =>
        SendAsync<RewardResponse>("v1/rewards", request, uploads, ct);

    /// <summary>The best of the candidates (<c>POST /v1/best-of-n</c>).</summary>
    public Task<BestOfNResponse> BestOfNAsync(BestOfNRequest request, IReadOnlyDictionary<string, string>? uploads = null, CancellationToken ct = default) =>
        SendAsync<BestOfNResponse>("v1/best-of-n", request, uploads, ct);

    public Task<IReadOnlyList<JobListing>> ListJobsAsync(CancellationToken ct = default) => GetAsync<IReadOnlyList<JobListing>>("v1/jobs", ct);

    /// <summary>A stored job's status; <paramref name="name"/> is its path relative to the server's data root.</summary>
    public Task<JobSummary> GetJobAsync(string name, CancellationToken ct = default) => GetAsync<JobSummary>($"v1/jobs/{Escape(name)}", ct);

    public Task<RecordPage> GetJobResultsAsync(string name, int offset = 0, int limit = 100, string? status = null, CancellationToken ct = default) =>
        GetAsync<RecordPage>($"v1/jobs/{Escape(name)}/results?offset={offset}&limit={limit}" + (status is null ? "" : $"&status={Uri.EscapeDataString(status)}"), ct);

    /// <summary>The readiness state (<c>/ready</c>); throws 503 while the server shuts down.</summary>
    public Task<ReadyState> ReadyAsync(CancellationToken ct = default) => GetAsync<ReadyState>("ready", ct);

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static string Escape(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await _http.GetAsync(path, ct);
        return await ReadAsync<T>(response, ct);
    }

    private async Task<T> SendAsync<T>(string path, object body, IReadOnlyDictionary<string, string>? uploads, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            using var content = Content(body, uploads);
            using var response = await _http.PostAsync(path, content, ct);
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < _options.MaxRetries)
            {
                var delay = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                await Task.Delay(delay < _options.MaxRetryDelay ? delay : _options.MaxRetryDelay, ct);
                continue;
            }

            return await ReadAsync<T>(response, ct);
        }
    }

    private static HttpContent Content(object body, IReadOnlyDictionary<string, string>? uploads)
    {
        if (uploads is not { Count: > 0 })
        {
            return JsonContent.Create(body, body.GetType(), options: Json);
        }

        var form = new MultipartFormDataContent();
        form.Add(new StringContent(JsonSerializer.Serialize(body, body.GetType(), Json), System.Text.Encoding.UTF8, "application/json"), "request");
        foreach (var (name, file) in uploads)
        {
            var part = new StreamContent(File.OpenRead(file));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, name, Path.GetFileName(file));
        }

        return form;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        string text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            string detail = text;
            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
                {
                    detail = d.GetString()!;
                }
            }
            catch (JsonException)
            {
            }

            throw new JudgeServiceException((int)response.StatusCode, detail, response.Headers.RetryAfter?.Delta, text);
        }

        return JsonSerializer.Deserialize<T>(text, Json)
            ?? throw new JudgeServiceException((int)response.StatusCode, "The server answered with an empty body.", null, text);
    }

    private sealed record BatchAnswer([property: JsonPropertyName("results")] IReadOnlyList<JudgeResult> Results);
}

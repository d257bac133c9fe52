using System.Diagnostics;
using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Store;
using Microsoft.AspNetCore.Http;

namespace JudgeHost.Service;

/// <summary>
/// Runs one judging HTTP request: admission (429 when the queue is full), the per-request timeout linked to the
/// client's connection, the body (JSON, or multipart/form-data with a <c>request</c> JSON field and file parts), and
/// the mapping of every failure to a status code with a problem+json body. Metrics are recorded once per request.
/// </summary>
internal sealed class RequestContext(ServeOptions options, Admission admission, UploadStore uploads, ServiceMetrics metrics)
{
    public const string RequestField = "request";

    /// <summary>Answers <paramref name="http"/> with what <paramref name="handle"/> makes of its body.</summary>
    public async Task<IResult> RunAsync(HttpContext http, string endpoint, Func<JsonElement, UploadSet?, CancellationToken, Task<IResult>> handle)
    {
        var clock = Stopwatch.StartNew();
        int status = 500;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.TimeoutSeconds));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, timeout.Token);
        try
        {
            using var ticket = admission.Enter();
            var (json, files) = await ReadBodyAsync(http, linked.Token);
            using (files)
            {
                var result = await handle(json, files, linked.Token);
                status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : 200;
                return result;
            }
        }
        catch (ServiceException e)
        {
            status = e.StatusCode;
            metrics.Rejected(e.StatusCode switch { 429 => "queue_full", 503 => "shutdown", _ => "invalid" });
            return Problem(http, e.StatusCode, e.Message, e.RetryAfterSeconds);
        }
        catch (BadHttpRequestException e)
        {
            status = e.StatusCode;
            string message = e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The request body is larger than the server's limit of {options.MaxBodyBytes} bytes. Send fewer or smaller items, or raise --max-body-mb."
                : $"The request could not be read: {e.Message}";
            return Problem(http, e.StatusCode, message, null);
        }
        catch (InvalidDataException e)
        {
            // Multipart parts over FormOptions' limits.
            status = 413;
            return Problem(http, 413, $"The multipart body is too large or malformed ({e.Message}). The server takes at most {options.MaxBodyBytes} bytes.", null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
        {
            status = 504;
            metrics.Rejected("timeout");
            return Problem(http, 504, $"The request did not finish within {options.TimeoutSeconds} s and was abandoned. Send fewer candidates or a smaller token budget, or raise the server's --timeout-s.", null);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client is gone: nobody reads the answer; its queued work has been withdrawn.
            status = 499;
            metrics.Rejected("client_gone");
            return Results.Empty;
        }
        catch (JudgeHostException e) when (e.IsUserError)
        {
            status = 422;
            return Problem(http, 422, e.Message, null);
        }
        finally
        {
            metrics.Request(endpoint, status, clock.Elapsed.TotalSeconds);
        }
    }

    /// <summary>A problem+json answer (RFC 9457) with <c>detail</c> = what went wrong and what to do.</summary>
    public static IResult Problem(HttpContext http, int status, string detail, int? retryAfter, IDictionary<string, object?>? extensions = null)
    {
        if (retryAfter is { } seconds)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Results.Problem(detail: detail, statusCode: status, extensions: extensions);
    }

    /// <summary>Deserializes <paramref name="json"/> as <typeparamref name="T"/>; a 400 naming the field when it does not fit.</summary>
    public static T Parse<T>(JsonElement json, string what)
    {
        try
        {
            return json.Deserialize<T>(JudgeJson.Options) ?? throw new JsonException("the value is null.");
        }
        catch (JsonException e)
        {
            throw new ServiceException(400, $"{what}: {JsonlReader.Describe(e)} Fix the body (schemas: README, 'Service').");
        }
    }

    /// <summary>Runs the synchronous judging pipeline on a thread of its own (it blocks while its batch is queued and run).</summary>
    public static Task<T> OnOwnThread<T>(Func<T> work, CancellationToken ct) =>
        Task.Factory.StartNew(work, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private async Task<(JsonElement Json, UploadSet? Files)> ReadBodyAsync(HttpContext http, CancellationToken ct)
    {
        var request = http.Request;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            if (!form.TryGetValue(RequestField, out var text) || text.Count != 1)
            {
                throw new ServiceException(400, $"A multipart request needs exactly one form field '{RequestField}' holding the JSON body; the files go in file parts referenced as \"upload:PART_NAME\".");
            }

            var files = await uploads.SaveAsync(form.Files, ct);
            try
            {
                return (ParseJson(text.ToString()), files);
            }
            catch
            {
                files.Dispose();
                throw;
            }
        }

        if (request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ServiceException(415, $"Content type '{request.ContentType}' is not accepted; send application/json, or multipart/form-data with a '{RequestField}' field.");
        }

        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, default, ct);
            return (doc.RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            throw new ServiceException(400, $"The body is not valid JSON: {JsonlReader.Describe(e)}");
        }
    }

    private static JsonElement ParseJson(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ServiceException(400, $"The '{RequestField}' field is not valid JSON: {JsonlReader.Describe(e)}");
        }
    }
}

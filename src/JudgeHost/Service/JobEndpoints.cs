using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace JudgeHost.Service;

/// <summary>
/// Stored jobs and judged files under the data root: the SQLite job stores of <c>best-of-n</c> / <c>dpo</c>
/// (<c>*.job.db</c>: status and paged results) and JSONL outputs (paged records, for the viewer). Names are paths
/// relative to the data root; anything resolving outside it is refused with 403.
/// </summary>
internal sealed class JobEndpoints(ServeOptions options, ServiceMetrics metrics)
{
    private const int MaxPage = 1000;
    private readonly MediaResolver _root = new(options.DataRoot);

    public void Map(IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1").WithTags("jobs");
        jobs.MapGet("/jobs", (HttpContext http) => Run(http, () => Results.Json(ListJobs(), JudgeJson.Options)))
            .WithName("ListJobs").WithSummary("Job stores (*.job.db) under the data root.").Produces<IReadOnlyList<JobListing>>(200);
        jobs.MapGet("/jobs/{*name}", (HttpContext http, string name, int? offset, int? limit, string? status) =>
                Run(http, () => name.EndsWith("/results", StringComparison.Ordinal)
                    ? Results.Json(JobPage(name[..^"/results".Length], offset ?? 0, limit ?? 100, status), JudgeJson.Options)
                    : Results.Json(JobStoreReader.Summary(Resolve(name)), JudgeJson.Options)))
            .WithName("Job").WithSummary("A stored job's status (kind, configuration, finished items per status); NAME/results?offset=&limit=&status= pages its records.")
            .Produces<JobSummary>(200).Produces<JobResults>(200).ProducesProblem(403).ProducesProblem(404);
        jobs.MapGet("/files", (HttpContext http) => Run(http, () => Results.Json(Files("*.jsonl"), JudgeJson.Options)))
            .WithName("ListFiles").WithSummary("Judged JSONL files under the data root.").Produces<IReadOnlyList<string>>(200);
        jobs.MapGet("/files/{*name}", (HttpContext http, string name, int? offset, int? limit) => Run(http, () => Results.Json(FilePage(name, offset ?? 0, limit ?? 100), JudgeJson.Options)))
            .WithName("File").WithSummary("A page of a JSONL file's records (judge, best-of-n or dpo output).").Produces<JobResults>(200).ProducesProblem(403).ProducesProblem(404);
    }

    private IResult Run(HttpContext http, Func<IResult> action) => RunOnDataRoot(http, options, metrics, "jobs", action);

    /// <summary>
    /// Runs a request that reads the data root (jobs, files, the viewer's eval): 404 without a data root, a
    /// <see cref="ServiceException"/> as its status (400 read as 404: a bad name), a <see cref="JudgeHostException"/> as
    /// 422, and the outcome counted under <paramref name="route"/>.
    /// </summary>
    internal static IResult RunOnDataRoot(HttpContext http, ServeOptions options, ServiceMetrics metrics, string route, Func<IResult> action)
    {
        int status = 200;
        try
        {
            if (options.DataRoot is null)
            {
                throw new ServiceException(404, "This server has no data root; start it with --data-root DIR to browse jobs and judged files.");
            }

            return action();
        }
        catch (ServiceException e)
        {
            status = e.StatusCode == 400 ? 404 : e.StatusCode;
            return RequestContext.Problem(http, status, e.Message, null);
        }
        catch (JudgeHostException e)
        {
            status = 422;
            return RequestContext.Problem(http, status, e.Message, null);
        }
        finally
        {
            metrics.Request(route, status, 0);
        }
    }

    private string Resolve(string name) => _root.ResolvePath(name, "data");

    private List<JobListing> ListJobs() => [.. Files("*.job.db").Select(name =>
    {
        try
        {
            var summary = JobStoreReader.Summary(Resolve(name));
            return new JobListing(name, summary.Kind, summary.Finished);
        }
        catch (JudgeHostException e)
        {
            return new JobListing(name, null, null, e.Message);
        }
    })];

    private List<string> Files(string pattern)
    {
        string root = _root.Root!;
        return [.. Directory.EnumerateFiles(root, pattern, new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 4 })
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).Take(MaxPage)];
    }

    private JobResults JobPage(string name, int offset, int limit, string? status)
    {
        var (total, records) = JobStoreReader.Records(Resolve(name), Math.Max(0, offset), Math.Clamp(limit, 1, MaxPage), status);
        return new JobResults(name, offset, total, [.. records.Select(Element)]);
    }

    private JobResults FilePage(string name, int offset, int limit)
    {
        string path = Resolve(name);
        var lines = File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
        var page = lines.Skip(Math.Max(0, offset)).Take(Math.Clamp(limit, 1, MaxPage)).Select(Element).ToList();
        return new JobResults(name, offset, lines.Count, page);
    }

    private static JsonElement Element(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return JsonSerializer.SerializeToElement(new { status = "error", error = $"unreadable line: {e.Message}" });
        }
    }
}

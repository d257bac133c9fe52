using System.Reflection;
using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Store;
using JudgeHost.Judging;
using JudgeHost.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace JudgeHost.Service;

/// <summary>
/// The web viewer: its static page (HTML, JS and CSS embedded in the host, no build step) at <c>/viewer/</c>, <c>/</c>
/// redirecting there, and <c>/v1/eval/NAME</c>: <c>judgehost eval</c>'s metrics of a judged JSONL file under the data
/// root, with the report's plots as PNG (<c>?plot=TASK</c>). The page reads files and jobs through
/// <see cref="JobEndpoints"/> and media through <see cref="MediaPreviewEndpoints"/>.
/// </summary>
internal sealed class ViewerEndpoints(ServeOptions options, ServiceMetrics metrics)
{
    private const string ResourcePrefix = "viewer/";
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();
    private readonly MediaResolver _data = new(options.DataRoot);

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect("/viewer/")).ExcludeFromDescription();
        app.MapGet("/viewer/{*file}", (HttpContext http, string? file) => string.IsNullOrEmpty(file) && !http.Request.Path.Value!.EndsWith('/')
            ? Results.Redirect("/viewer/")     // the page's links are relative to /viewer/
            : Asset(http, string.IsNullOrEmpty(file) ? "index.html" : file)).ExcludeFromDescription();
        app.MapGet("/v1/eval/{*name}", (HttpContext http, string name, string? plot) => Eval(http, name, plot))
            .WithTags("viewer").WithName("Eval")
            .WithSummary("`judgehost eval` of a judged JSONL file under the data root: metrics per task (NaN as null) and plot links; ?plot=TASK gives that task's plot as PNG.")
            .Produces<EvalSummary>(200).ProducesProblem(403).ProducesProblem(404).ProducesProblem(422);
    }

    private static IResult Asset(HttpContext http, string file)
    {
        var stream = file.Contains("..", StringComparison.Ordinal) ? null : typeof(ViewerEndpoints).Assembly.GetManifestResourceStream(ResourcePrefix + file);
        if (stream is null)
        {
            return RequestContext.Problem(http, 404, $"The viewer has no file '{file}'; open /viewer/.", null);
        }

        http.Response.Headers.CacheControl = "no-cache";
        return Results.Stream(stream, ContentTypes.TryGetContentType(file, out var type) ? type : "application/octet-stream");
    }

    private IResult Eval(HttpContext http, string name, string? plot) => JobEndpoints.RunOnDataRoot(http, options, metrics, "eval", () =>
    {
        var (evaluation, judged) = Evaluate(_data.ResolvePath(name, "data"), name);
        if (plot is not null)
        {
            var task = evaluation.FirstOrDefault(t => t.Task == plot)
                ?? throw new ServiceException(404, $"'{name}' has no labelled '{plot}' results; tasks with labels: {string.Join(", ", evaluation.Select(t => t.Task).DefaultIfEmpty("none"))}.");
            byte[] png = EvalReport.PlotPng(task) ?? throw new ServiceException(404, $"eval draws no plot for the task '{plot}'.");
            return Results.File(png, "image/png");
        }

        var tasks = evaluation.Select(t => new EvalTaskSummary(
            t.Task, t.Items, t.Unparsed, t.Errors, t.Metrics.ToDictionary(m => m.Name, m => double.IsNaN(m.Value) ? (double?)null : m.Value),
            EvalReport.PlotTitle(t), EvalReport.PlotTitle(t) is null ? null : $"/v1/eval/{Uri.EscapeDataString(name).Replace("%2F", "/", StringComparison.Ordinal)}?plot={Uri.EscapeDataString(t.Task)}")).ToList();
        return Results.Json(new EvalSummary(name, judged, evaluation.Sum(t => t.Items), tasks, EvalReport.Table(evaluation)), JudgeJson.Options);
    });

    // The file's judge results (lines with "task" and "status": `judge` output; requests have no status, best-of-n and
    // dpo records no task) scored by eval.
    private static (IReadOnlyList<TaskEvaluation> Tasks, int Judged) Evaluate(string path, string name)
    {
        var results = new List<JudgeResult>();
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("task", out _) && doc.RootElement.TryGetProperty("status", out _))
                {
                    results.Add(doc.RootElement.Deserialize<JudgeResult>(JudgeJson.Options) ?? throw new JsonException("null line"));
                }
            }
            catch (JsonException e)
            {
                throw new JudgeHostException($"'{name}' line {line} is not a judge result ({e.Message}). eval reads the output of `judgehost judge`.", e);
            }
        }

        return (Evaluation.Evaluate(results), results.Count);
    }
}

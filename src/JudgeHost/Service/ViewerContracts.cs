using System.Text.Json.Serialization;

namespace JudgeHost.Service;

/// <summary>One frame of a video's strip: its time and the link that decodes it.</summary>
public sealed record VideoFrameLink(
    [property: JsonPropertyName("time_s")] double TimeSeconds,
    [property: JsonPropertyName("url")] string Url);

/// <summary>Answer of <c>/v1/media/video</c>: the video's length and size and its frame strip.</summary>
public sealed record VideoStrip(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("duration_s")] double DurationSeconds,
    [property: JsonPropertyName("width")] int Width,
    [property: JsonPropertyName("height")] int Height,
    [property: JsonPropertyName("frames")] IReadOnlyList<VideoFrameLink> Frames);

/// <summary>One task's metrics as <c>judgehost eval</c> computes them (NaN as null), with the link to its plot.</summary>
public sealed record EvalTaskSummary(
    [property: JsonPropertyName("task")] string Task,
    [property: JsonPropertyName("items")] int Items,
    [property: JsonPropertyName("unparsed")] int Unparsed,
    [property: JsonPropertyName("errors")] int Errors,
    [property: JsonPropertyName("metrics")] IReadOnlyDictionary<string, double?> Metrics,
    [property: JsonPropertyName("plot_title")] string? PlotTitle,
    [property: JsonPropertyName("plot")] string? Plot);

/// <summary>Answer of <c>/v1/eval/NAME</c>: the eval of a judged JSONL file under the data root.</summary>
public sealed record EvalSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("judge_results")] int JudgeResults,
    [property: JsonPropertyName("labelled")] int Labelled,
    [property: JsonPropertyName("tasks")] IReadOnlyList<EvalTaskSummary> Tasks,
    [property: JsonPropertyName("table")] string Table);

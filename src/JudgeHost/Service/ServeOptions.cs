using JudgeHost.Abstractions;

namespace JudgeHost.Service;

/// <summary>Settings of <c>judgehost serve</c>. Bound from the <c>Serve</c> section; the CLI overrides per run.</summary>
public sealed class ServeOptions
{
    public const string Section = "Serve";

    /// <summary>Addresses Kestrel listens on (semicolon-separated); port 0 picks a free port.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Folder that media paths in requests must lie inside; null: media only by upload.</summary>
    public string? MediaRoot { get; set; }

    /// <summary>Folder of judged JSONL files and job stores (<c>*.job.db</c>) the job endpoints and the viewer read; null: none.</summary>
    public string? DataRoot { get; set; }

    /// <summary>Folder holding ffmpeg and ffprobe for the viewer's video frames (the video plugin's <c>FfmpegFolder</c>); null: the PATH.</summary>
    public string? FfmpegFolder { get; set; }

    /// <summary>Requests admitted at once (queued or running); more are answered 429 with Retry-After.</summary>
    public int MaxQueue { get; set; } = 64;

    /// <summary>Most prompts (rows) one backbone batch takes.</summary>
    public int MaxBatch { get; set; } = 32;

    /// <summary>How long the scheduler waits for more work after the first item of a batch arrives.</summary>
    public int BatchWindowMs { get; set; } = 5;

    /// <summary>Merge concurrent requests into backbone batches; off: one request's prompts at a time (the load test's baseline).</summary>
    public bool DynamicBatching { get; set; } = true;

    /// <summary>Per-request limit; a request still running then is answered 504.</summary>
    public double TimeoutSeconds { get; set; } = 300;

    /// <summary>Largest request body (JSON or multipart), in bytes.</summary>
    public long MaxBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Most requests one batch call carries.</summary>
    public int MaxItems { get; set; } = 256;

    /// <summary>Most candidates one request carries.</summary>
    public int MaxCandidates { get; set; } = 64;

    /// <summary>On shutdown, how long running requests may finish; work still queued then is rejected with 503.</summary>
    public double DrainSeconds { get; set; } = 30;

    public void Validate()
    {
        var problems = new List<string>();
        if (MaxQueue < 1)
        {
            problems.Add($"max queue is {MaxQueue}; use 1 or more");
        }

        if (MaxBatch < 1)
        {
            problems.Add($"max batch is {MaxBatch}; use 1 or more");
        }

        if (BatchWindowMs < 0)
        {
            problems.Add($"batch window is {BatchWindowMs} ms; use 0 or more");
        }

        if (!(TimeoutSeconds > 0))
        {
            problems.Add($"timeout is {TimeoutSeconds} s; use a positive number");
        }

        if (MaxBodyBytes < 1024)
        {
            problems.Add($"max body is {MaxBodyBytes} bytes; use at least 1024");
        }

        if (MaxItems < 1 || MaxCandidates < 1)
        {
            problems.Add("max items and max candidates must be positive");
        }

        if (DrainSeconds < 0)
        {
            problems.Add($"drain time is {DrainSeconds} s; use 0 or more");
        }

        foreach (var (name, dir) in new[] { ("media root", MediaRoot), ("data root", DataRoot) })
        {
            if (dir is not null && !Directory.Exists(dir))
            {
                problems.Add($"{name} '{dir}' is not a folder");
            }
        }

        if (problems.Count > 0)
        {
            throw new JudgeHostException($"Invalid serve settings: {string.Join("; ", problems)}.");
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using JudgeHost.Abstractions;

namespace JudgeHost.Service;

/// <summary>A video's length and frame size, as ffprobe reads them.</summary>
public sealed record VideoProbe(double DurationSeconds, int Width, int Height);

/// <summary>
/// Frames of a video for the viewer's frame strip: ffprobe for the length, then one ffmpeg run per frame (seek to the
/// time, decode one frame, scale, JPEG to stdout). The same ffmpeg the video plugin uses (its <c>FfmpegFolder</c>
/// setting, else the PATH); at most two ffmpeg processes run at once, each with a time limit.
/// </summary>
public sealed class VideoFrames(string? ffmpegFolder) : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _running = new(2);

    /// <summary>Evenly spaced frame times: the middle of each of <paramref name="count"/> equal slices of the video.</summary>
    public static IReadOnlyList<double> Times(double durationSeconds, int count) =>
        [.. Enumerable.Range(0, count).Select(i => Math.Round(durationSeconds * (i + 0.5) / count, 3))];

    public async Task<VideoProbe> ProbeAsync(string path, CancellationToken ct)
    {
        var (output, _) = await RunAsync(Tool("ffprobe"), ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,duration:format=duration", "-of", "json", path], path, ct);
        try
        {
            using var doc = JsonDocument.Parse(output);
            var root = doc.RootElement;
            var streams = root.TryGetProperty("streams", out var s) ? s : default;
            if (streams.ValueKind != JsonValueKind.Array || streams.GetArrayLength() == 0)
            {
                throw new InvalidMediaException($"Video '{Path.GetFileName(path)}' has no video stream.");
            }

            var stream = streams[0];
            double duration = Seconds(stream) ?? (root.TryGetProperty("format", out var format) ? Seconds(format) : null) ?? 0;
            return new VideoProbe(duration, stream.GetProperty("width").GetInt32(), stream.GetProperty("height").GetInt32());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidMediaException($"ffprobe's description of video '{Path.GetFileName(path)}' could not be read ({e.Message}).", e);
        }
    }

    /// <summary>The frame shown at <paramref name="seconds"/> (the last one stamped at or before it) as a JPEG at most <paramref name="width"/> pixels wide.</summary>
    public async Task<byte[]> FrameJpegAsync(string path, double seconds, int width, CancellationToken ct)
    {
        string ss = Math.Max(0, seconds).ToString("0.###", CultureInfo.InvariantCulture);
        string scale = $"scale='min({width},iw)':-2";
        var (_, bytes) = await RunAsync(Tool("ffmpeg"), ["-nostdin", "-hide_banner", "-loglevel", "error", "-ss", ss, "-i", path, "-frames:v", "1", "-vf", scale, "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "4", "pipe:1"], path, ct, binary: true);
        if (bytes.Length > 0)
        {
            return bytes;
        }

        // Seeking drops every frame stamped before the time, so a time inside the last frame's display (or a video of one
        // frame) gives nothing: decode from the start up to the time and keep the last frame (image2's -update).
        string file = Path.Combine(Path.GetTempPath(), $"judgehost-frame-{Guid.NewGuid():N}.jpg");
        try
        {
            string upTo = (Math.Max(0, seconds) + 0.001).ToString("0.###", CultureInfo.InvariantCulture);
            await RunAsync(Tool("ffmpeg"), ["-nostdin", "-hide_banner", "-loglevel", "error", "-i", path, "-t", upTo, "-vf", scale, "-update", "1", "-q:v", "4", "-y", file], path, ct, binary: true);
            return File.Exists(file) && new FileInfo(file).Length > 0
                ? await File.ReadAllBytesAsync(file, ct)
                : throw new InvalidMediaException($"ffmpeg found no frame up to {ss} s in video '{Path.GetFileName(path)}'.");
        }
        finally
        {
            File.Delete(file);
        }
    }

    public void Dispose() => _running.Dispose();

    private string Tool(string name)
    {
        string? folder = ffmpegFolder ?? (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(dir => File.Exists(Path.Combine(dir, name)));
        string? tool = folder is null ? null : Path.Combine(folder, name);
        return tool is not null && File.Exists(tool)
            ? tool
            : throw new ServiceException(501, $"{name} is not installed, so the viewer cannot show video frames. Install it (Debian: apt-get install ffmpeg) or set Modalities:Video:FfmpegFolder.");
    }

    private async Task<(string Text, byte[] Bytes)> RunAsync(string tool, IEnumerable<string> arguments, string path, CancellationToken ct, bool binary = false)
    {
        await _running.WaitAsync(ct);
        try
        {
            var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in arguments)
            {
                start.ArgumentList.Add(a);
            }

            using var process = Process.Start(start) ?? throw new ServiceException(501, $"'{tool}' could not be started.");
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(Limit);
            using var kill = limit.Token.Register(() =>
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // already exited
                }
            });
            var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var stdout = new MemoryStream();
            await process.StandardOutput.BaseStream.CopyToAsync(stdout, CancellationToken.None);
            await process.WaitForExitAsync(CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            if (limit.IsCancellationRequested)
            {
                throw new ServiceException(504, $"{Path.GetFileName(tool)} took longer than {Limit.TotalSeconds:0} s on video '{Path.GetFileName(path)}'.");
            }

            if (process.ExitCode != 0)
            {
                // ffmpeg names the file by its full path: say only its name (the server's folders are not the client's business).
                string why = ((await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "")
                    .Replace(path, Path.GetFileName(path), StringComparison.Ordinal);
                throw new InvalidMediaException($"Video '{Path.GetFileName(path)}' could not be read by {Path.GetFileName(tool)}: {why}");
            }

            byte[] bytes = stdout.ToArray();
            return (binary ? "" : System.Text.Encoding.UTF8.GetString(bytes), bytes);
        }
        finally
        {
            _running.Release();
        }
    }

    private static double? Seconds(JsonElement e) =>
        e.TryGetProperty("duration", out var d) && d.ValueKind == JsonValueKind.String
            && double.TryParse(d.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;
}

using System.Diagnostics;
using System.Text.Json;
using FFMpegCore;
using FFMpegCore.Exceptions;
using FFMpegCore.Pipes;
using JudgeHost.Abstractions;

namespace Modalities.Shared;

/// <summary>ffmpeg or ffprobe is not installed (or not where the settings say): an environment error, exit code 2.</summary>
public sealed class FfmpegNotFoundException(string message) : JudgeHostException(message);

/// <summary>
/// Locating ffmpeg and ffprobe and trimming their messages, for the plugins that decode through them (video, audio).
/// Plugins never reference each other, so this file is compiled into each of them (a linked source file).
/// </summary>
internal static class FfmpegTools
{
    /// <summary>FFMpegCore options pointing at the folder that holds both tools.</summary>
    /// <param name="configuredFolder">The plugin's <c>FfmpegFolder</c> setting, or null to search the PATH.</param>
    /// <param name="purpose">What needs ffmpeg, for the message (e.g. "video").</param>
    /// <param name="settingKey">The configuration key to name in the message (e.g. <c>Modalities:Video:FfmpegFolder</c>).</param>
    /// <exception cref="FfmpegNotFoundException">ffmpeg or ffprobe is missing.</exception>
    public static FFOptions Options(string? configuredFolder, string purpose, string settingKey)
    {
        string folder = configuredFolder ?? FindOnPath("ffmpeg")
            ?? throw new FfmpegNotFoundException($"ffmpeg is not installed: {purpose} needs ffmpeg and ffprobe. Install them (Debian: apt-get install ffmpeg) or set {settingKey}.");
        foreach (string tool in new[] { "ffmpeg", "ffprobe" })
        {
            if (!File.Exists(Path.Combine(folder, tool)))
            {
                throw new FfmpegNotFoundException($"{tool} is not in '{folder}': {purpose} needs ffmpeg and ffprobe. Install them (Debian: apt-get install ffmpeg) or fix {settingKey}.");
            }
        }

        return new FFOptions { BinaryFolder = folder };
    }

    /// <summary>ffprobe's analysis of <paramref name="path"/>; a file it cannot read becomes an <see cref="InvalidMediaException"/>.</summary>
    /// <param name="path">The media file.</param>
    /// <param name="options">Where ffprobe is (see <see cref="Options"/>).</param>
    /// <param name="unreadable">The error message, given ffprobe's first line of explanation.</param>
    public static IMediaAnalysis Analyse(string path, FFOptions options, Func<string, string> unreadable)
    {
        ArgumentNullException.ThrowIfNull(unreadable);
        try
        {
            return FFProbe.Analyse(path, options);
        }
        catch (Exception e) when (e is FFMpegException or FormatException or JsonException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidMediaException(unreadable(FirstLine(e.Message)), e);
        }
    }

    /// <summary>
    /// Runs ffmpeg with <paramref name="arguments"/> (input options, <c>-i</c>, output options; the output goes to
    /// stdout in the sink's format) and hands its stdout to <paramref name="sink"/>. ffmpeg's stdout is an anonymous
    /// pipe owned by this process: FFMpegCore's named-pipe sinks lose a short output now and then when ffmpeg exits
    /// before the pipe is connected (seen under load: a one-frame video read as zero frames), so decoding does not use them.
    /// </summary>
    /// <exception cref="IOException">ffmpeg exited with an error; the message ends with ffmpeg's last stderr line.</exception>
    public static void Run(FFOptions options, IEnumerable<string> arguments, IPipeSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var start = new ProcessStartInfo(GlobalFFOptions.GetFFMpegBinaryPath(options))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-nostdin", "-hide_banner", "-loglevel", "error" }.Concat(arguments).Concat(sink.GetStreamArguments().Split(' ', StringSplitOptions.RemoveEmptyEntries)).Append("pipe:1"))
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new FfmpegNotFoundException($"ffmpeg could not be started from '{start.FileName}'.");
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        using var kill = cancellationToken.Register(() =>
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
        var stdout = process.StandardOutput.BaseStream;
        try
        {
            sink.ReadAsync(stdout, cancellationToken).GetAwaiter().GetResult();
        }
        finally
        {
            stdout.CopyTo(Stream.Null);   // let ffmpeg finish writing whatever the sink did not want
            process.WaitForExit();
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (process.ExitCode != 0)
        {
            throw new IOException($"ffmpeg exited with code {process.ExitCode}: {LastLine(errors.GetAwaiter().GetResult())}");
        }
    }

    /// <summary>The first non-empty line of a tool's message (ffprobe puts the cause first).</summary>
    public static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? text;

    /// <summary>The last non-empty line of a tool's message (ffmpeg puts the cause last).</summary>
    public static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? text;

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(dir => File.Exists(Path.Combine(dir, tool)));
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace JudgeHost.Tests.Service;

/// <summary>
/// Debian's Chromium, headless, driven over the Chrome DevTools Protocol (one WebSocket, flattened sessions): the
/// browser of the viewer tests. Launched with <c>--remote-debugging-port=0</c>; the DevTools address is read from its
/// stderr. A missing Chromium is a test failure with the command that installs it, never a skip.
/// </summary>
public sealed partial class HeadlessChromium : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly ClientWebSocket _socket;
    private readonly string _profile;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly ConcurrentDictionary<string, BrowserPage> _pages = new();
    private readonly SemaphoreSlim _send = new(1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private int _nextId;

    private HeadlessChromium(Process process, ClientWebSocket socket, string profile)
    {
        _process = process;
        _socket = socket;
        _profile = profile;
        _receiving = Task.Run(ReceiveAsync);
    }

    /// <summary>The Chromium binary: <c>JUDGEHOST_CHROMIUM</c>, else Debian's <c>/usr/bin/chromium</c> (or chromium-browser / google-chrome on the PATH).</summary>
    public static string FindExecutable()
    {
        if (Environment.GetEnvironmentVariable("JUDGEHOST_CHROMIUM") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new InvalidOperationException($"JUDGEHOST_CHROMIUM is '{configured}', which does not exist.");
        }

        string[] names = ["chromium", "chromium-browser", "google-chrome"];
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin");
        return dirs.SelectMany(d => names.Select(n => Path.Combine(d, n))).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "Chromium is not installed: the viewer's browser tests need Debian's chromium (/usr/bin/chromium). "
                + "Run `bash tools/install-system-deps.sh` (it installs it; CI runs it first), or `apt-get install chromium`, or set JUDGEHOST_CHROMIUM to a Chromium binary.");
    }

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        string exe = FindExecutable();
        string profile = Path.Combine(Path.GetTempPath(), "judgehost-chromium", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[]
        {
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-sync", "--mute-audio", "--remote-debugging-port=0",
            "--remote-allow-origins=*", $"--user-data-dir={profile}", "--window-size=1400,1000", "about:blank",
        })
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"'{exe}' could not be started.");
        var address = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                address.TrySetException(new InvalidOperationException($"Chromium exited before it listened:\n{log}"));
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
            }

            if (DevToolsLine().Match(e.Data) is { Success: true } m)
            {
                address.TrySetResult(m.Groups[1].Value);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            string url = await address.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            await socket.ConnectAsync(new Uri(url), CancellationToken.None);
            return new HeadlessChromium(process, socket, profile);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or WebSocketException)
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw new InvalidOperationException($"Chromium ('{exe}') did not open its DevTools port: {e.Message}\n{log}", e);
        }
    }

    /// <summary>A new tab, attached, with the Page and Runtime domains enabled (script errors are collected).</summary>
    public async Task<BrowserPage> NewPageAsync()
    {
        var target = await SendAsync(null, "Target.createTarget", new JsonObject { ["url"] = "about:blank" });
        string targetId = target.GetProperty("targetId").GetString()!;
        var attached = await SendAsync(null, "Target.attachToTarget", new JsonObject { ["targetId"] = targetId, ["flatten"] = true });
        var page = new BrowserPage(this, targetId, attached.GetProperty("sessionId").GetString()!);
        _pages[page.SessionId] = page;
        await page.SendAsync("Page.enable");
        await page.SendAsync("Runtime.enable");
        return page;
    }

    internal async Task ClosePageAsync(BrowserPage page)
    {
        _pages.TryRemove(page.SessionId, out _);
        await SendAsync(null, "Target.closeTarget", new JsonObject { ["targetId"] = page.TargetId });
    }

    internal async Task<JsonElement> SendAsync(string? sessionId, string method, JsonObject? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        if (sessionId is not null)
        {
            message["sessionId"] = sessionId;
        }

        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _send.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _send.Release();
        }

        try
        {
            return await reply.Task.WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Chromium did not answer {method} within {CommandTimeout.TotalSeconds} s.");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open && !_stop.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                Dispatch(JsonDocument.Parse(message.ToArray()).RootElement.Clone());
                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }

        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(new InvalidOperationException("The connection to Chromium closed."));
        }
    }

    private void Dispatch(JsonElement message)
    {
        if (message.TryGetProperty("id", out var id))
        {
            if (_pending.TryGetValue(id.GetInt32(), out var reply))
            {
                if (message.TryGetProperty("error", out var error))
                {
                    reply.TrySetException(new InvalidOperationException($"DevTools error: {error.GetRawText()}"));
                }
                else
                {
                    reply.TrySetResult(message.GetProperty("result"));
                }
            }

            return;
        }

        if (message.TryGetProperty("sessionId", out var session) && _pages.TryGetValue(session.GetString()!, out var page))
        {
            page.OnEvent(message.GetProperty("method").GetString()!, message.TryGetProperty("params", out var p) ? p : default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                await SendAsync(null, "Browser.close").WaitAsync(TimeSpan.FromSeconds(5));
            }
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or WebSocketException)
        {
            // closing anyway
        }

        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        await _stop.CancelAsync();
        try
        {
            await _receiving;
        }
        catch (OperationCanceledException)
        {
        }

        _socket.Dispose();
        _process.Dispose();
        _send.Dispose();
        _stop.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsLine();
}

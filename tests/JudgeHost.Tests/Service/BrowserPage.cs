using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace JudgeHost.Tests.Service;

/// <summary>One tab of <see cref="HeadlessChromium"/>: navigate, evaluate JavaScript, wait for a condition, collect script errors.</summary>
public sealed class BrowserPage : IAsyncDisposable
{
    private readonly HeadlessChromium _browser;
    private readonly ConcurrentQueue<string> _errors = new();

    internal BrowserPage(HeadlessChromium browser, string targetId, string sessionId)
    {
        _browser = browser;
        TargetId = targetId;
        SessionId = sessionId;
    }

    internal string TargetId { get; }

    internal string SessionId { get; }

    /// <summary>Uncaught exceptions and console.error calls of the page's scripts.</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    internal Task<JsonElement> SendAsync(string method, JsonObject? parameters = null) => _browser.SendAsync(SessionId, method, parameters);

    public async Task NavigateAsync(string url)
    {
        var result = await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        if (result.TryGetProperty("errorText", out var error))
        {
            throw new InvalidOperationException($"Chromium could not open {url}: {error.GetString()}");
        }
    }

    /// <summary>The value of a JavaScript expression (awaited when it is a promise), as JSON.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["awaitPromise"] = true, ["returnByValue"] = true });
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            throw new InvalidOperationException($"'{expression}' threw in the page: {Describe(exception)}");
        }

        var value = result.GetProperty("result");
        return value.TryGetProperty("value", out var v) ? v.Clone() : default;
    }

    public async Task<T> EvaluateAsync<T>(string expression) => (await EvaluateAsync(expression)).Deserialize<T>()!;

    /// <summary>Polls <paramref name="condition"/> (a JavaScript expression) until it is true; fails with what it last saw.</summary>
    public async Task WaitForAsync(string condition, string what, double seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await EvaluateAsync($"(() => {{ try {{ return !!({condition}); }} catch {{ return false; }} }})()");
            if (value.ValueKind == JsonValueKind.True)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                string page = (await EvaluateAsync("document.body ? document.body.dataset.state + ' | ' + document.body.innerText.slice(0, 1500) : '(no body)'")).ToString();
                throw new TimeoutException($"Waited {seconds} s for {what} ({condition}). Script errors: [{string.Join("; ", _errors)}]. Page: {page}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Presses and releases a key (DevTools key name, e.g. <c>ArrowDown</c>) as a user would.</summary>
    public async Task PressKeyAsync(string key)
    {
        foreach (string type in new[] { "keyDown", "keyUp" })
        {
            await SendAsync("Input.dispatchKeyEvent", new JsonObject { ["type"] = type, ["key"] = key, ["code"] = key });
        }
    }

    /// <summary>Writes a PNG of the viewport (for looking at a failing page).</summary>
    public async Task ScreenshotAsync(string path)
    {
        var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(shot.GetProperty("data").GetString()!));
    }

    internal void OnEvent(string method, JsonElement parameters)
    {
        if (method == "Runtime.exceptionThrown")
        {
            _errors.Enqueue(Describe(parameters.GetProperty("exceptionDetails")));
        }
        else if (method == "Runtime.consoleAPICalled" && parameters.GetProperty("type").GetString() == "error")
        {
            _errors.Enqueue(string.Join(" ", parameters.GetProperty("args").EnumerateArray().Select(a => a.TryGetProperty("value", out var v) ? v.ToString() : a.GetProperty("type").GetString())));
        }
    }

    private static string Describe(JsonElement exception) =>
        exception.TryGetProperty("exception", out var e) && e.TryGetProperty("description", out var d) ? d.GetString()! : exception.GetProperty("text").GetString()!;

    public async ValueTask DisposeAsync() => await _browser.ClosePageAsync(this);
}

using JudgeHost.Backbone;
using JudgeHost.Judging;

namespace JudgeHost.Tests.Service;

/// <summary>
/// One `judgehost serve` process (tiny random checkpoint, media root and data root of <see cref="ViewerData"/>) and one
/// headless Chromium for all the viewer's browser tests.
/// </summary>
public sealed class ViewerBrowserFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDir _dir = new();

    public ServeProcess Serve { get; private set; } = null!;

    public HeadlessChromium Browser { get; private set; } = null!;

    public IReadOnlyList<JudgeResult> Judged { get; private set; } = [];

    public string MediaRoot => _dir.Combine("media");

    public string DataRoot => _dir.Combine("data");

    public async Task InitializeAsync()
    {
        Browser = await HeadlessChromium.LaunchAsync();   // first: a missing Chromium fails every test with how to install it
        string model = _dir.Combine("tiny");
        TinyCheckpoint.WriteWithTokenizer(model, "qwen2", new TinyCheckpoint.Shape(Hidden: 32, Intermediate: 64, Heads: 2, KvHeads: 1), Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), seed: 3);
        Judged = ViewerData.Write(MediaRoot, DataRoot);
        Directory.CreateDirectory(_dir.Combine("no-plugins"));
        await RunPipelinesAsync(model);
        try
        {
            Serve = await ServeProcess.StartAsync(
                "--plugins-dir", _dir.Combine("no-plugins"), "serve", "--model", model, "--urls", "http://127.0.0.1:0",
                "--media-root", MediaRoot, "--data-root", DataRoot, "--dtype", "float32", "--max-new-tokens", "8");
        }
        catch
        {
            await Browser.DisposeAsync();
            Browser = null!;
            throw;
        }
    }

    // A stored best-of-n job and a dpo output, written by the real commands (own processes: no libtorch state shared
    // with other tests) judging with the tiny random checkpoint, whose verdicts are honestly unreadable.
    private async Task RunPipelinesAsync(string model)
    {
        string prompts = Path.Combine(DataRoot, ViewerData.PipelinePrompts);
        Directory.CreateDirectory(Path.GetDirectoryName(prompts)!);
        File.WriteAllLines(prompts, ViewerData.PipelinePromptLines);
        string[] common = ["--plugins-dir", _dir.Combine("no-plugins"), "--model", model, "--input", prompts, "--max-new-tokens", "8", "--dtype", "float32"];
        await ServeProcess.RunAsync(["best-of-n", .. common, "--method", "knockout", "--output", Path.Combine(DataRoot, "jobs", "knockout.jsonl")]);
        await ServeProcess.RunAsync(["dpo", .. common, "--output", Path.Combine(DataRoot, ViewerData.Dpo)]);
    }

    /// <summary>A new tab showing <c>/viewer/?QUERY</c>, once the page has loaded its source.</summary>
    public async Task<BrowserPage> OpenAsync(string query)
    {
        var page = await Browser.NewPageAsync();
        await page.NavigateAsync(new Uri(Serve.BaseAddress, "viewer/?" + query).ToString());
        await page.WaitForAsync("document.body.dataset.state === 'ready'", "the viewer to load its source");
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        if (Serve is not null)
        {
            await Serve.DisposeAsync();
        }
    }

    public void Dispose() => _dir.Dispose();
}

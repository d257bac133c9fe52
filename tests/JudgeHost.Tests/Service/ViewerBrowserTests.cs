using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Pipelines;

namespace JudgeHost.Tests.Service;

/// <summary>
/// The web viewer in a real headless Chromium against a real `judgehost serve` process: what a person sees, asserted
/// on the DOM (items, filters, verdicts, reasoning, both-order agreement, images, frame strips, eval plots), plus
/// the media guard over HTTP. Expected values come from the judge results the fixture wrote.
/// </summary>
public sealed class ViewerBrowserTests(ViewerBrowserFixture fixture) : IClassFixture<ViewerBrowserFixture>
{
    private static string Js(string s) => JsonSerializer.Serialize(s);

    private static async Task SetFilterAsync(BrowserPage page, string id, string value) =>
        await page.EvaluateAsync($"(() => {{ const s = document.getElementById({Js(id)}); s.value = {Js(value)}; s.dispatchEvent(new Event('change')); return s.value; }})()");

    private static async Task<string[]> ListedIdsAsync(BrowserPage page) =>
        await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#items li')].map(li => li.dataset.id)");

    private static async Task<string> TextAsync(BrowserPage page, string selector) =>
        (await page.EvaluateAsync($"(document.querySelector({Js(selector)}) || {{ innerText: '' }}).innerText")).GetString() ?? "";

    [Fact]
    public async Task JudgedFile_ShowsItems_Verdict_Reasoning_BothOrders_AndTheImage()
    {
        await using var page = await fixture.OpenAsync($"file={Uri.EscapeDataString(ViewerData.Judged)}&item=cat-caption");

        Assert.Equal(fixture.Judged.Select(r => r.Id), await ListedIdsAsync(page));
        Assert.Contains(ViewerData.Requests, await TextAsync(page, "#source-info"));          // the input file was found beside the results
        Assert.Equal("cat-caption", await TextAsync(page, "#detail h2"));
        var result = fixture.Judged.Single(r => r.Id == "cat-caption");
        Assert.Equal(("ok", "A", true), (result.Status, result.Verdict!.Outcome, result.OrdersAgree));
        Assert.StartsWith("A better", await TextAsync(page, "#detail .verdict"));
        Assert.Contains("orders agree", await TextAsync(page, "#detail .agreement"));
        string[] orders = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#detail .order')].map(o => o.dataset.order)");
        Assert.Equal(["AB", "BA"], orders);
        Assert.Equal(2, await page.EvaluateAsync<int>("document.querySelectorAll('#detail .sample').length"));
        Assert.Contains("Comparing each answer with the question and the media.", await TextAsync(page, "#detail .order[data-order=BA] .reasoning"));
        string[] candidates = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#detail .candidate .text')].map(c => c.innerText)");
        Assert.Equal(["q=8 A synthetic photo with colour gradients.", "q=3 A crowded street at night."], candidates);
        Assert.Equal("0", (await page.EvaluateAsync("document.querySelector('#detail .candidate.winner').dataset.index")).GetString());
        await page.WaitForAsync("(() => { const i = document.querySelector('#detail img.image'); return i && i.complete && i.naturalWidth > 0; })()", "the image to render");
        Assert.Equal(320, await page.EvaluateAsync<int>("document.querySelector('#detail img.image').naturalWidth"));
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task Filters_ByTask_Agreement_AndParseFailure_NarrowTheList()
    {
        await using var page = await fixture.OpenAsync($"file={Uri.EscapeDataString(ViewerData.Judged)}");
        string[] pairwise = [.. fixture.Judged.Where(r => r.Task == "pairwise").Select(r => r.Id)];
        string[] disagree = [.. fixture.Judged.Where(r => r.OrdersAgree == false).Select(r => r.Id)];
        string[] unparsed = [.. fixture.Judged.Where(r => r.Status == "unparsed").Select(r => r.Id)];
        Assert.Equal((2, 1, 1), (pairwise.Length, disagree.Length, unparsed.Length));   // the fixture has each kind

        await SetFilterAsync(page, "filter-task", "pairwise");
        Assert.Equal(pairwise, await ListedIdsAsync(page));
        Assert.Equal($"{pairwise.Length} of {fixture.Judged.Count} items", await TextAsync(page, "#count"));

        await SetFilterAsync(page, "filter-task", "");
        await SetFilterAsync(page, "filter-agreement", "disagree");
        Assert.Equal(disagree, await ListedIdsAsync(page));
        Assert.Equal("order-bias", await TextAsync(page, "#detail h2"));
        Assert.Contains("orders disagree", await TextAsync(page, "#detail .agreement"));
        string[] sampleVerdicts = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#detail .sample-verdict')].map(s => s.innerText)");
        Assert.Equal(2, sampleVerdicts.Length);
        Assert.Contains("A better", sampleVerdicts[0]);   // AB: the first shown (A) wins
        Assert.Contains("B better", sampleVerdicts[1]);   // BA: the first shown (B) wins, mapped back

        await SetFilterAsync(page, "filter-agreement", "");
        await SetFilterAsync(page, "filter-parse", "failure");
        Assert.Equal(unparsed, await ListedIdsAsync(page));
        Assert.Contains("unparsed", await TextAsync(page, "#detail .verdict"));
        Assert.Contains("no verdict here", await TextAsync(page, "#detail .answer"));

        await SetFilterAsync(page, "filter-parse", "parsed");
        string[] parsed = [.. fixture.Judged.Where(r => r.Status != "unparsed").Select(r => r.Id)];
        Assert.Equal(parsed, await ListedIdsAsync(page));

        // The keyboard walks the filtered list.
        Assert.Equal(parsed[0], await TextAsync(page, "#detail h2"));
        await page.PressKeyAsync("ArrowDown");
        Assert.Equal(parsed[1], await TextAsync(page, "#detail h2"));
        Assert.Equal(parsed[1], (await page.EvaluateAsync("document.querySelector('#items li.selected').dataset.id")).GetString());
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task VideoItem_ShowsAFrameStripDecodedByFfmpeg()
    {
        await using var page = await fixture.OpenAsync($"file={Uri.EscapeDataString(ViewerData.Judged)}&item=rate-video");

        await page.WaitForAsync("(() => { const f = [...document.querySelectorAll('#detail .frame-strip img')]; return f.length === 8 && f.every(i => i.complete && i.naturalWidth > 0); })()", "8 decoded frames");
        string[] times = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#detail .frame-strip figcaption')].map(c => c.innerText)");
        Assert.Equal(["0.188 s", "0.562 s", "0.938 s", "1.312 s", "1.688 s", "2.062 s", "2.438 s", "2.812 s"], times);   // middles of 8 slices of 3 s
        Assert.Equal(240, await page.EvaluateAsync<int>("document.querySelector('#detail .frame-strip img').naturalWidth"));
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task Summary_ShowsEvalMetricsAndItsPlots()
    {
        await using var page = await fixture.OpenAsync($"file={Uri.EscapeDataString(ViewerData.Judged)}&view=summary");

        await page.WaitForAsync("(() => { const p = [...document.querySelectorAll('#summary img.plot')]; return p.length > 0 && p.every(i => i.complete && i.naturalWidth > 0); })()", "the eval plots");
        string eval = await TextAsync(page, "#summary-eval");
        double accuracy = Evaluation.Evaluate(fixture.Judged).Single(t => t.Task == "pairwise").Metrics.Single(m => m.Name == "accuracy").Value;
        Assert.Equal(0.5, accuracy);                         // cat-caption right; order-bias's disagreeing orders make a tie against label A
        Assert.Contains("pairwise\t2\t0\t0\taccuracy 0.5, accuracy_without_ties", eval);
        string[] plotted = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#summary img.plot')].map(i => i.alt.split(' ')[0])");
        Assert.Equal(["binary", "pairwise", "pointwise"], plotted);   // eval draws no plot for ranking
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task BestOfNRecord_ShowsCandidatesSideBySide_TheChoice_AndItsMatches()
    {
        await using var page = await fixture.OpenAsync($"file={ViewerData.BestOfN}");
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.DataRoot, ViewerData.BestOfN)))!;

        Assert.Equal(["pick-best"], await ListedIdsAsync(page));
        Assert.Equal(3, await page.EvaluateAsync<int>("document.querySelectorAll('#detail .candidate').length"));
        Assert.Equal(record["choice"]!.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture), (await page.EvaluateAsync("document.querySelector('#detail .candidate.winner').dataset.index")).GetString());
        Assert.Equal(record["matches"]!.AsArray().Count, await page.EvaluateAsync<int>("document.querySelectorAll('#detail table tr').length - 1"));
        Assert.Equal(record["judgments"]!.AsArray().Count, await page.EvaluateAsync<int>("document.querySelectorAll('#detail details.judgment').length"));
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task AudioItem_ShowsAPlayerThatLoadsTheFile()
    {
        await using var page = await fixture.OpenAsync($"file={Uri.EscapeDataString(ViewerData.Judged)}&item=clear-speech");
        byte[] wav = File.ReadAllBytes(Path.Combine(fixture.MediaRoot, "speech.wav"));
        double seconds = (wav.Length - 44) / (double)BitConverter.ToInt32(wav, 28);   // data bytes / byte rate (canonical 44-byte header)

        await page.WaitForAsync("(() => { const a = document.querySelector('#detail audio'); return a && a.readyState >= 1 && a.duration > 0; })()", "the audio player to load the file");
        Assert.Equal(seconds, await page.EvaluateAsync<double>("document.querySelector('#detail audio').duration"), 0.02);
        Assert.True(await page.EvaluateAsync<bool>("document.querySelector('#detail audio').controls"));
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task StoredJob_IsListed_AndItsRecordsBrowsed()
    {
        await using var page = await fixture.OpenAsync($"job={Uri.EscapeDataString(ViewerData.BestOfNJob)}");
        var records = File.ReadAllLines(Path.Combine(fixture.DataRoot, "jobs", "knockout.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();

        string[] jobs = await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#source optgroup[label=\"Stored jobs\"] option')].map(o => o.value)");
        Assert.Contains($"job:{ViewerData.BestOfNJob}", jobs);
        Assert.Equal(records.Select(r => r["id"]!.GetValue<string>()), await ListedIdsAsync(page));
        Assert.Contains(ViewerData.PipelinePrompts, await TextAsync(page, "#source-info"));   // the prompts beside the job store, joined by id
        Assert.Equal("Name a prime number.", await TextAsync(page, "#detail .instruction"));
        Assert.Equal(records[0]["status"]!.GetValue<string>(), await TextAsync(page, "#detail .badge"));
        Assert.Equal(records[0]["candidates"]!.AsArray().Count, await page.EvaluateAsync<int>("document.querySelectorAll('#detail .candidate').length"));
        Assert.Equal(records[0]["judgments"]!.AsArray().Count, await page.EvaluateAsync<int>("document.querySelectorAll('#detail details.judgment').length"));

        // The tiny random judge cannot write a verdict: every prompt has parse failures, none is chosen.
        await SetFilterAsync(page, "filter-parse", "failure");
        Assert.Equal(records.Where(r => r["parse_failures"]!.GetValue<int>() > 0).Select(r => r["id"]!.GetValue<string>()), await ListedIdsAsync(page));
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task DpoOutput_ShowsThePrompt_AndWhyPairsWereDropped()
    {
        await using var page = await fixture.OpenAsync($"file={Uri.EscapeDataString(ViewerData.Dpo)}&item=capital");
        var record = File.ReadAllLines(Path.Combine(fixture.DataRoot, ViewerData.Dpo)).Select(l => JsonNode.Parse(l)!).Single(r => r["id"]!.GetValue<string>() == "capital");

        Assert.Equal("What is the capital of Italy?", await TextAsync(page, "#detail .instruction"));
        Assert.Equal(["Rome", "Milan"], await page.EvaluateAsync<string[]>("[...document.querySelectorAll('#detail .candidate .text')].map(c => c.innerText)"));
        var dropped = record["dropped"]!.AsArray();
        Assert.NotEmpty(dropped);
        string table = await page.EvaluateAsync<string>("[...document.querySelectorAll('#detail h3')].find(h => h.innerText.toLowerCase() === 'pairs dropped').nextElementSibling.innerText");
        Assert.All(dropped, d => Assert.Contains(d!["reason"]!.GetValue<string>(), table));
        Assert.Null(record["judgments"]![0]!["orders_agree"]);                              // both orders ran, neither readable
        Assert.Contains("agreement unknown", await TextAsync(page, "#detail .agreement"));
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task VideoFrames_OneFrameVideo_RepeatsIt_UnreadableVideos_Are422WithoutServerPaths()
    {
        using var http = new HttpClient { BaseAddress = fixture.Serve.BaseAddress };

        var strip = JsonNode.Parse(await http.GetStringAsync("v1/media/video?path=one_frame.mp4&frames=4"))!;
        var frames = await Task.WhenAll(strip["frames"]!.AsArray().Select(f => http.GetAsync(f!["url"]!.GetValue<string>().TrimStart('/'))));
        var notVideo = await http.GetAsync("v1/media/video?path=not_a_video.mp4");
        var audioOnly = await http.GetAsync("v1/media/video?path=audio_only.m4a");

        Assert.Equal(4, frames.Length);
        Assert.All(frames, f => Assert.Equal(("image/jpeg", HttpStatusCode.OK), (f.Content.Headers.ContentType!.MediaType, f.StatusCode)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notVideo.StatusCode);
        string detail = await notVideo.Content.ReadAsStringAsync();
        Assert.Contains("'not_a_video.mp4' could not be read by ffprobe", detail);
        Assert.DoesNotContain(fixture.MediaRoot, detail);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, audioOnly.StatusCode);
        Assert.Contains("has no video stream", await audioOnly.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("../tiny/config.json")]              // climbs out of the media root
    [InlineData("/etc/passwd")]                      // an absolute path elsewhere
    [InlineData("images/../../data/best.jsonl")]     // climbs out after going in
    public async Task MediaOutsideTheRoot_IsRefused(string path)
    {
        using var http = new HttpClient { BaseAddress = fixture.Serve.BaseAddress };

        var file = await http.GetAsync($"v1/media?path={Uri.EscapeDataString(path)}");
        var frames = await http.GetAsync($"v1/media/video?path={Uri.EscapeDataString(path)}");

        Assert.Equal(HttpStatusCode.Forbidden, file.StatusCode);
        Assert.Contains("outside the media root", await file.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, frames.StatusCode);
    }

    [Fact]
    public async Task MediaLinkLeadingOut_IsRefused_AndRootRedirectsToTheViewer()
    {
        string link = Path.Combine(fixture.MediaRoot, "escape.jpg");
        if (!File.Exists(link))
        {
            File.CreateSymbolicLink(link, Path.Combine(fixture.DataRoot, ViewerData.BestOfN));
        }

        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.Serve.BaseAddress };

        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("v1/media?path=escape.jpg")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/media?path=images/photo.jpg")).StatusCode);
        var root = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/viewer/", root.Headers.Location!.OriginalString);
    }
}

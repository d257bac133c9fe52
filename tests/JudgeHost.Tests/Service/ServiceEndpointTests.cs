using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Client;
using JudgeHost.Store;
using JudgeHost.Tests.Pipelines;

namespace JudgeHost.Tests.Service;

/// <summary>Every endpoint of `judgehost serve` against a real Kestrel on loopback, through the typed client, over a scripted judge whose right answers are known.</summary>
[Collection(ServiceCollection.Name)]
public sealed class ServiceEndpointTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Judge_EveryTask_ReturnsTheVerdict()
    {
        await using var server = await TestServer.StartAsync(QualityJudge.Honest());

        var pair = await server.Client.JudgeAsync(new JudgeRequest { Id = "p", Task = JudgeTask.Pairwise, Instruction = "Capital of France?", Candidates = ["q=8 Paris", "q=3 Lyon"] });
        var score = await server.Client.JudgeAsync(new JudgeRequest { Id = "s", Task = JudgeTask.Pointwise, Instruction = "Capital?", Candidates = ["q=4 Paris"] });
        var rank = await server.Client.JudgeAsync(new JudgeRequest { Id = "r", Task = JudgeTask.Ranking, Instruction = "Capital?", Candidates = ["q=2 a", "q=9 b", "q=5 c"] });

        Assert.Equal(("ok", "A", true), (pair.Status, pair.Verdict!.Outcome, pair.OrdersAgree));
        Assert.Equal(2, pair.Samples.Count);                     // both orders, with their raw reasoning
        Assert.Equal(4, score.Verdict!.Score);
        Assert.Equal("BCA", rank.Verdict!.Ranking);
    }

    [Fact]
    public async Task Judge_Binary_ScriptedYes()
    {
        await using var server = await TestServer.StartAsync(new Judging.ScriptedBackend(_ => "<think>looks natural</think><answer>yes</answer>"));

        var result = await server.Client.JudgeAsync(new JudgeRequest { Id = "b", Task = JudgeTask.Binary, Instruction = "Is the caption right?", Aspect = "alignment" });

        Assert.Equal(("ok", true), (result.Status, result.Verdict!.Yes));
    }

    [Fact]
    public async Task JudgeBatch_BadItemsFailAlone_OthersAreJudged()
    {
        File.WriteAllText(_dir.Combine("ok.png"), "x");
        await using var server = await TestServer.StartAsync(QualityJudge.Honest(), o => o.MediaRoot = _dir.Path);
        string body = """
            {"requests":[
              {"id":"good","task":"pairwise","instruction":"Q","candidates":["q=2 a","q=7 b"]},
              {"id":"no-task","instruction":"Q","candidates":["a"]},
              {"id":"escape","task":"pointwise","instruction":"Q","candidates":["q=3 a"],"media":[{"modality":"image","path":"../../etc/passwd"}]},
              {"id":"too-few","task":"pairwise","instruction":"Q","candidates":["only one"]},
              {"id":"with-image","task":"pointwise","instruction":"Q","candidates":["q=5 a"],"media":[{"modality":"image","path":"ok.png"}]},
              "not an object"
            ]}
            """;

        using var response = await server.Http.PostAsync("v1/judge/batch", JsonBody(body));
        var results = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["results"]!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["good", "no-task", "escape", "too-few", "with-image", "requests[5]"], results.Select(r => (string)r!["id"]!));
        Assert.Equal(["ok", "error", "error", "error", "ok", "error"], results.Select(r => (string)r!["status"]!));
        Assert.Equal("B", (string)results[0]!["verdict"]!["outcome"]!);
        Assert.Contains("requests[1]", (string)results[1]!["error"]!, StringComparison.Ordinal);
        Assert.Contains("task", (string)results[1]!["error"]!, StringComparison.Ordinal);
        Assert.Contains("outside the media root", (string)results[2]!["error"]!, StringComparison.Ordinal);
        Assert.Contains("exactly 2 candidates", (string)results[3]!["error"]!, StringComparison.Ordinal);
        Assert.Equal(5, (double)results[4]!["verdict"]!["score"]!);
    }

    [Theory]
    [InlineData("../outside.png")]                     // climbs out of the root
    [InlineData("/etc/passwd")]                        // absolute path elsewhere
    [InlineData("sub/../../outside.png")]              // climbs out through a subfolder
    [InlineData("link/secret.png")]                    // a symbolic link inside the root that leads out
    public async Task Judge_MediaPathOutsideRoot_Is403(string path)
    {
        string root = _dir.Combine("media");
        string outside = _dir.Combine("elsewhere");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "secret.png"), "secret");
        File.WriteAllText(_dir.Combine("outside.png"), "secret");
        Directory.CreateSymbolicLink(Path.Combine(root, "link"), outside);
        var backend = QualityJudge.Honest();
        await using var server = await TestServer.StartAsync(backend, o => o.MediaRoot = root);

        var e = await Assert.ThrowsAsync<JudgeServiceException>(() => server.Client.JudgeAsync(new JudgeRequest
        {
            Id = "x", Task = JudgeTask.Pointwise, Instruction = "Q", Candidates = ["q=1 a"], Media = [new MediaRef("image", path)],
        }));

        Assert.Equal(403, e.StatusCode);
        Assert.Contains("outside the media root", e.Detail, StringComparison.Ordinal);
        Assert.Empty(backend.Calls);                        // nothing reached the model
    }

    [Fact]
    public async Task Judge_MediaPathWithoutRoot_Is400_AndNamesTheWayOut()
    {
        await using var server = await TestServer.StartAsync(QualityJudge.Honest());

        var e = await Assert.ThrowsAsync<JudgeServiceException>(() => server.Client.JudgeAsync(new JudgeRequest
        {
            Id = "x", Task = JudgeTask.Pointwise, Instruction = "Q", Candidates = ["q=1 a"], Media = [new MediaRef("image", "cat.png")],
        }));

        Assert.Equal(400, e.StatusCode);
        Assert.Contains("--media-root", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Judge_MultipartUpload_ReachesTheJudgeAsAFile_SameBytesShareOnePath()
    {
        // The judge reads the uploaded file: its content is the candidate's quality.
        var seen = new List<string>();
        var backend = new Judging.ScriptedBackend(p =>
        {
            string file = p.Media[0].Path!;
            seen.Add(file);
            return $"<think>read it</think><answer>{File.ReadAllText(file)}</answer>";
        });
        await using var server = await TestServer.StartAsync(backend);
        File.WriteAllText(_dir.Combine("cat.png"), "4");
        var request = new JudgeRequest { Id = "u", Task = JudgeTask.Pointwise, Instruction = "Q", Candidates = ["a"], Media = [MediaRef.Upload("image", "img")] };

        var first = await server.Client.JudgeAsync(request, new Dictionary<string, string> { ["img"] = _dir.Combine("cat.png") });
        var second = await server.Client.JudgeAsync(request, new Dictionary<string, string> { ["img"] = _dir.Combine("cat.png") });
        var missing = await Assert.ThrowsAsync<JudgeServiceException>(() => server.Client.JudgeAsync(request with { Media = [MediaRef.Upload("image", "other")] },
            new Dictionary<string, string> { ["img"] = _dir.Combine("cat.png") }));

        Assert.Equal(4, first.Verdict!.Score);
        Assert.Equal(4, second.Verdict!.Score);
        Assert.Equal(seen[0], seen[1]);                    // content-addressed: one path, so one cached prefix
        Assert.EndsWith(".png", seen[0], StringComparison.Ordinal);
        Assert.False(File.Exists(seen[0]));                // released when the requests ended
        Assert.Equal(400, missing.StatusCode);
        Assert.Contains("no file part named 'other'", missing.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rewards_JudgeMode_NormalisedScores_UnreadableVerdictIsNull()
    {
        await using var server = await TestServer.StartAsync(QualityJudge.Honest());

        var response = await server.Client.RewardsAsync(new RewardRequest
        {
            Id = "g1", Instruction = "Solve 2+2.", Candidates = ["q=5 four", "q=1 five", "no quality tag"], Scale = new ScoreScale(1, 5),
        });

        Assert.Equal("judge", response.Mode);
        Assert.Equal([1.0, 0.0, null], response.Rewards.Select(r => r.Reward));
        Assert.Equal(["ok", "ok", "unparsed"], response.Rewards.Select(r => r.Status));
        Assert.Equal(1, response.ParseFailures);
        Assert.Equal(3, response.Judgments!.Count);
    }

    [Fact]
    public async Task Rewards_VerdictMode_IsTheMtRlJudgeReward()
    {
        var backend = QualityJudge.Honest();
        await using var server = await TestServer.StartAsync(backend);

        var response = await server.Client.RewardsAsync(new RewardRequest
        {
            Id = "rl", Label = "A", Task = JudgeTask.Pairwise, Alpha = 0.5,
            Candidates = ["<think>A is right</think><answer>9</answer><answer>2</answer>", "<think>B</think><answer>2</answer><answer>9</answer>", "Sure. <think>x</think><answer>9</answer><answer>2</answer>", "junk"],
        });

        Assert.Equal("verdict", response.Mode);
        Assert.Equal([1.0, 0.5, 0.5, 0.0], response.Rewards.Select(r => r.Reward));   // (1-α)·acc + α·format
        Assert.Equal(["ok", "wrong", "ok", "unparsed"], response.Rewards.Select(r => r.Status));
        Assert.Equal(0.0, response.Rewards[2].Format);
        Assert.Empty(backend.Calls);                                                    // a rule, no model call
    }

    [Theory]
    [InlineData("pointwise")]      // highest score
    [InlineData("knockout")]       // pairwise bracket, both orders
    [InlineData("round_robin")]    // every pair
    [InlineData("listwise")]       // one ranking
    public async Task BestOfN_EveryMethod_PicksTheBest(string method)
    {
        await using var server = await TestServer.StartAsync(QualityJudge.Honest());

        var record = await server.Client.BestOfNAsync(new BestOfNRequest
        {
            Id = "b", Instruction = "Q", Candidates = ["q=3 a", "q=5 b", "q=4 c", "q=1 d"], Method = method, Seed = 1,
        });

        Assert.Equal(("ok", 1, "q=5 b"), (record.Status, record.Choice, record.Chosen));
        Assert.Equal(method, record.Method);
        Assert.NotEmpty(record.Judgments);
    }

    [Fact]
    public async Task BestOfN_WithoutCandidates_Is400()
    {
        await using var server = await TestServer.StartAsync(QualityJudge.Honest());

        using var response = await server.Http.PostAsync("v1/best-of-n", JsonBody("""{"id":"b","instruction":"Q"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not sample", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json", "{\"id\":", 400, "not valid JSON")]                         // truncated JSON
    [InlineData("application/json", "{\"id\":\"x\",\"task\":\"judge-me\"}", 400, "task")]           // unknown task
    [InlineData("text/plain", "hello", 415, "application/json")]                                  // wrong content type
    [InlineData("application/json", "{\"id\":\"x\",\"task\":\"pairwise\",\"instruction\":\"\",\"candidates\":[\"a\",\"b\"]}", 422, "empty instruction")]   // valid JSON, not judgeable
    public async Task Judge_MalformedBody_IsA4xxWithAClearMessage(string type, string body, int status, string expected)
    {
        await using var server = await TestServer.StartAsync(QualityJudge.Honest());

        using var response = await server.Http.PostAsync("v1/judge", new StringContent(body, Encoding.UTF8, type));
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(expected, (string)problem["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Judge_BodyOverTheLimit_Is413()
    {
        await using var server = await TestServer.StartAsync(QualityJudge.Honest(), o => o.MaxBodyBytes = 4096);
        string big = new('x', 10_000);

        var e = await Assert.ThrowsAsync<JudgeServiceException>(() => server.Client.JudgeAsync(new JudgeRequest { Id = "big", Task = JudgeTask.Pointwise, Instruction = big, Candidates = ["q=1 a"] }));

        Assert.Equal(413, e.StatusCode);
        Assert.Contains("4096 bytes", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_StatusAndResultsOfAStoredJob_TraversalRefused()
    {
        string data = _dir.Combine("data");
        Directory.CreateDirectory(Path.Combine(data, "runs"));
        using (var store = JobStore.Open(Path.Combine(data, "runs", "best.jsonl.job.db"), "best-of-n", new JsonObject { ["method"] = "knockout" }, JobOpenMode.New))
        {
            store.Commit("p1", "ok", """{"id":"p1","status":"ok","choice":1}""");
            store.Commit("p2", "no_choice", """{"id":"p2","status":"no_choice"}""");
        }

        string outside = _dir.Combine("outside");
        Directory.CreateDirectory(outside);
        File.Copy(Path.Combine(data, "runs", "best.jsonl.job.db"), Path.Combine(outside, "other.job.db"));
        Directory.CreateSymbolicLink(Path.Combine(data, "link"), outside);
        File.WriteAllText(Path.Combine(data, "judged.jsonl"), """{"id":"a","status":"ok"}""" + "\n\n" + """{"id":"b","status":"unparsed"}""" + "\n");
        await using var server = await TestServer.StartAsync(QualityJudge.Honest(), o => o.DataRoot = data);

        var jobs = await server.Client.ListJobsAsync();
        var summary = await server.Client.GetJobAsync("runs/best.jsonl.job.db");
        var page = await server.Client.GetJobResultsAsync("runs/best.jsonl.job.db", offset: 1, limit: 5);
        var okOnly = await server.Client.GetJobResultsAsync("runs/best.jsonl.job.db", status: "ok");
        string files = await server.Http.GetStringAsync("v1/files");
        var filePage = JsonNode.Parse(await server.Http.GetStringAsync("v1/files/judged.jsonl?limit=1"))!;
        var escape = await Assert.ThrowsAsync<JudgeServiceException>(() => server.Client.GetJobAsync("link/other.job.db"));
        var missing = await Assert.ThrowsAsync<JudgeServiceException>(() => server.Client.GetJobAsync("runs/none.job.db"));

        Assert.Contains(("runs/best.jsonl.job.db", "best-of-n", 2), jobs.Select(j => (j.Name, j.Kind, j.Finished ?? -1)));
        Assert.Equal(("best-of-n", 2, 1, 1), (summary.Kind, summary.Finished, summary.ByStatus["ok"], summary.ByStatus["no_choice"]));
        Assert.Equal("knockout", summary.Config!.Value.GetProperty("method").GetString());
        Assert.Equal((2, 1), (page.Total, page.Records.Count));
        Assert.Equal("p2", page.Records[0].GetProperty("id").GetString());
        Assert.Equal(["p1"], okOnly.Records.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal("""["judged.jsonl"]""", files);
        Assert.Equal((2, "a"), ((int)filePage["total"]!, (string)filePage["records"]![0]!["id"]!));
        Assert.Equal(403, escape.StatusCode);
        Assert.Equal(404, missing.StatusCode);
    }

    [Fact]
    public async Task HealthReadyOpenApiAndMetrics_AreServed()
    {
        await using var server = await TestServer.StartAsync(QualityJudge.Honest());
        await server.Client.JudgeAsync(new JudgeRequest { Id = "p", Task = JudgeTask.Pairwise, Instruction = "Q", Candidates = ["q=8 a", "q=3 b"] });
        await server.Client.JudgeAsync(new JudgeRequest { Id = "u", Task = JudgeTask.Pointwise, Instruction = "Q", Candidates = ["no tag"] });

        string health = await server.Http.GetStringAsync("health");
        var ready = await server.Client.ReadyAsync();
        var openApi = JsonNode.Parse(await server.Http.GetStringAsync("openapi/v1.json"))!;
        string metrics = await server.MetricsAsync();

        Assert.Contains("alive", health, StringComparison.Ordinal);
        Assert.Equal(("ready", "test-judge"), (ready.Status, ready.Model));
        var paths = openApi["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Subset(paths.ToHashSet(), new HashSet<string> { "/v1/judge", "/v1/judge/batch", "/v1/rewards", "/v1/best-of-n", "/v1/jobs", "/v1/jobs/{name}", "/health", "/ready" });
        Assert.Equal("#/components/schemas/JudgeRequest", (string)openApi["paths"]!["/v1/judge"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]!);
        var requestSchema = openApi["components"]!["schemas"]!["JudgeRequest"]!["properties"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("candidates", requestSchema);
        Assert.Contains("media", requestSchema);
        Assert.Contains("judgehost_requests_total{otel_scope_name=\"JudgeHost.Service\",code=\"200\",endpoint=\"judge\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("judgehost_judgments_total{otel_scope_name=\"JudgeHost.Service\",status=\"unparsed\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("judgehost_parse_failure_rate{otel_scope_name=\"JudgeHost.Service\"} 0.5", metrics, StringComparison.Ordinal);
        Assert.Contains("judgehost_batch_prompts_count", metrics, StringComparison.Ordinal);
        Assert.Contains("judgehost_tokens_generated_total", metrics, StringComparison.Ordinal);
        Assert.Contains("judgehost_tokens_per_second", metrics, StringComparison.Ordinal);
        Assert.Contains("judgehost_queue_depth{otel_scope_name=\"JudgeHost.Service\"} 0", metrics, StringComparison.Ordinal);
    }
}

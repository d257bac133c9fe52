using JudgeHost.Backbone;
using JudgeHost.Client;
using JudgeHost.Judging;

namespace JudgeHost.Tests.Service;

/// <summary>
/// The service over a real tiny checkpoint (TextJudgeBackend on the TorchSharp backbone): every endpoint answers, and
/// requests that many clients send at once, merged into backbone batches, get exactly the judgments they get alone.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ServiceTinyModelTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TextModel _model;

    public ServiceTinyModelTests()
    {
        string path = _dir.Combine("tiny");
        TinyCheckpoint.WriteWithTokenizer(path, "qwen2", new TinyCheckpoint.Shape(Hidden: 32, Intermediate: 64, Heads: 2, KvHeads: 1), Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), seed: 3);
        _model = TextModel.Load(path, TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU);
    }

    public void Dispose()
    {
        _model.Dispose();
        _dir.Dispose();
    }

    private TextJudgeBackend Backend() => new(_model.Generator, _model.RequireTokenizer(), _model.RequireTemplate(), _model.EosIds);

    private static readonly JudgeOptions Options = new() { MaxNewTokens = 6 };

    private static JudgeHost.Client.JudgeRequest Request(int i) => (i % 3) switch
    {
        0 => new() { Id = $"r{i}", Task = JudgeHost.Client.JudgeTask.Pairwise, Instruction = $"Which answer to question {i} is better?", Candidates = [$"answer {i}", $"reply {i * 7}"] },
        1 => new() { Id = $"r{i}", Task = JudgeHost.Client.JudgeTask.Pointwise, Instruction = "Rate the answer.", Candidates = [$"candidate number {i}"] },
        _ => new() { Id = $"r{i}", Task = JudgeHost.Client.JudgeTask.Ranking, Instruction = $"Rank the answers to {i}.", Candidates = ["one", "two", $"three {i}"] },
    };

    [Fact]
    public async Task ConcurrentClients_GetTheJudgmentsTheyGetAlone()
    {
        // Alone: a fresh judge per request, no server.
        var alone = Enumerable.Range(0, 8).Select(i =>
        {
            var r = Request(i);
            var service = new JudgeService(Backend(), Options);
            return service.Judge([new JudgeHost.Judging.JudgeRequest
            {
                Id = r.Id, Task = (JudgeHost.Judging.JudgeTask)(int)r.Task, Instruction = r.Instruction, Candidates = r.Candidates,
            }])[0];
        }).ToArray();
        await using var server = await TestServer.StartAsync(Backend(), o => { o.MaxBatch = 64; o.BatchWindowMs = 50; }, Options);

        var together = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => server.Client.JudgeAsync(Request(i))));

        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(alone[i].Id, together[i].Id);
            Assert.Equal(alone[i].Status, together[i].Status);
            Assert.Equal(alone[i].Samples.Select(s => (s.Order, s.Raw, s.Tokens)), together[i].Samples.Select(s => (s.Order, s.Raw, s.Tokens)));
        }

        Assert.True(server.Server.Scheduler.Batches < 8, $"{server.Server.Scheduler.Batches} batches for 8 concurrent requests: nothing was merged");
    }

    [Fact]
    public async Task EveryEndpoint_AnswersWithTheTinyModel()
    {
        await using var server = await TestServer.StartAsync(Backend(), judge: Options);

        var batch = await server.Client.JudgeBatchAsync([Request(0), Request(1), Request(2), new() { Id = "bin", Task = JudgeHost.Client.JudgeTask.Binary, Instruction = "Is it fluent?", Aspect = "naturalness" }]);
        var rewards = await server.Client.RewardsAsync(new RewardRequest { Id = "g", Instruction = "2+2?", Candidates = ["4", "5"] });
        var best = await server.Client.BestOfNAsync(new BestOfNRequest { Id = "b", Instruction = "2+2?", Candidates = ["4", "5", "6"], Method = "knockout" });

        // Random weights cannot follow the protocol: every verdict is honestly unparsed, never a default.
        Assert.Equal(["unparsed", "unparsed", "unparsed", "unparsed"], batch.Select(r => r.Status));
        Assert.All(batch, r => Assert.True(r.GeneratedTokens > 0));
        Assert.Equal([null, null], rewards.Rewards.Select(r => r.Reward));
        Assert.Equal(2, rewards.ParseFailures);
        Assert.Equal(("no_choice", null), (best.Status, best.Choice));
        Assert.Equal(2, best.ParseFailures);
    }
}

using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using JudgeHost.Store;

namespace JudgeHost.Tests.Store;

public sealed class JobStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonObject Config(int maxTokens = 8) => new() { ["input_sha256"] = "abc", ["judge"] = new JsonObject { ["max_new_tokens"] = maxTokens } };

    [Fact]
    public void Resume_KeepsFinishedItemsInOrder_AndContinuesNumbering()
    {
        string path = _dir.Combine("job.db");
        using (var store = JobStore.Open(path, "best-of-n", Config(), JobOpenMode.New))
        {
            store.Commit("a", "ok", """{"id":"a"}""");
            store.Commit("b", "error", """{"id":"b"}""");
        }

        using var resumed = JobStore.Open(path, "best-of-n", Config(), JobOpenMode.Resume);
        resumed.Commit("c", "ok", """{"id":"c"}""");

        Assert.True(resumed.Resumed);
        Assert.True(resumed.IsDone("a") && resumed.IsDone("b") && !resumed.IsDone("d"));
        Assert.Equal(["a", "b", "c"], resumed.Records().Select(r => r.Id));
        Assert.Equal(2, resumed.CountByStatus()["ok"]);
    }

    [Fact]
    public void Commit_SameItemTwice_Throws()
    {
        using var store = JobStore.Open(_dir.Combine("job.db"), "dpo", Config(), JobOpenMode.New);
        store.Commit("a", "ok", "{}");

        Assert.Throws<InvalidOperationException>(() => store.Commit("a", "ok", "{}"));
    }

    [Fact]
    public void Open_ExistingJobWithoutResume_IsRefused()
    {
        string path = _dir.Combine("job.db");
        using (JobStore.Open(path, "dpo", Config(), JobOpenMode.New))
        {
        }

        var e = Assert.Throws<JudgeHostException>(() => JobStore.Open(path, "dpo", Config(), JobOpenMode.New));

        Assert.Contains("--resume", e.Message, StringComparison.Ordinal);
        Assert.Contains("--force-new", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_WithChangedSettings_IsRefusedNamingWhatChanged()
    {
        string path = _dir.Combine("job.db");
        using (var store = JobStore.Open(path, "dpo", Config(8), JobOpenMode.New))
        {
            store.Commit("a", "ok", "{}");
        }

        var e = Assert.Throws<JobConfigMismatchException>(() => JobStore.Open(path, "dpo", Config(9), JobOpenMode.Resume));

        Assert.Equal(["judge.max_new_tokens: 8 -> 9"], e.Differences);
        Assert.Contains("--force-new", e.Message, StringComparison.Ordinal);
        Assert.Throws<JobConfigMismatchException>(() => JobStore.Open(path, "best-of-n", Config(8), JobOpenMode.Resume));   // another verb's job
    }

    [Fact]
    public void ForceNew_DiscardsTheOldJob()
    {
        string path = _dir.Combine("job.db");
        using (var store = JobStore.Open(path, "dpo", Config(8), JobOpenMode.New))
        {
            store.Commit("a", "ok", "{}");
        }

        using var fresh = JobStore.Open(path, "dpo", Config(9), JobOpenMode.ForceNew);

        Assert.False(fresh.Resumed);
        Assert.Equal(0, fresh.Count);
        Assert.Empty(fresh.Records());
    }

    [Fact]
    public void NotADatabase_IsAUserErrorNamingTheFile()
    {
        string path = _dir.Combine("notes.txt");
        File.WriteAllText(path, "this is not sqlite, just some text that is long enough to have a header page............................................");

        var e = Assert.Throws<JudgeHostException>(() => JobStore.Open(path, "dpo", Config(), JobOpenMode.Resume));

        Assert.Contains("notes.txt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outputs_AreRebuiltFromTheStore_DroppingAHalfWrittenLine()
    {
        string path = _dir.Combine("job.db");
        string output = _dir.Combine("out.jsonl");
        using var store = JobStore.Open(path, "dpo", Config(), JobOpenMode.New);
        store.Commit("a", "ok", """{"id":"a","n":"é"}""");
        store.Commit("b", "ok", """{"id":"b"}""");
        await File.WriteAllTextAsync(output, "{\"id\":\"a\",\"n\":\"é\"}\n{\"id\":\"b\"}\n{\"id\":\"c\",\"hal");   // a crash mid-line

        await using (var outputs = await JsonlOutputs.OpenAsync([(output, r => [r]), (output + ".twice", r => [r, r])], store, default))
        {
            store.Commit("c", "ok", """{"id":"c"}""");
            await outputs.AppendAsync("""{"id":"c"}""", default);
        }

        Assert.Equal(["""{"id":"a","n":"é"}""", """{"id":"b"}""", """{"id":"c"}"""], await File.ReadAllLinesAsync(output));
        Assert.Equal(6, (await File.ReadAllLinesAsync(output + ".twice")).Length);
        Assert.NotEqual(0xEF, (await File.ReadAllBytesAsync(output))[0]);   // UTF-8 without a BOM
    }
}

using System.Diagnostics;
using System.Text.Json;
using JudgeHost.Backbone;
using Microsoft.Data.Sqlite;

namespace JudgeHost.Tests.Cli;

/// <summary>`best-of-n` and `dpo` end to end on a tiny random checkpoint: records, counts, exports, the job store, resume after kill -9.</summary>
[Collection(TorchCollection.Name)]
public sealed class PipelineCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string TinyModel()
    {
        string path = _dir.Combine("tiny");
        if (!Directory.Exists(path))
        {
            TinyCheckpoint.WriteWithTokenizer(path, "qwen2", new TinyCheckpoint.Shape(Hidden: 32, Intermediate: 64, Heads: 2, KvHeads: 1), Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), seed: 3);
        }

        return path;
    }

    private static List<JsonElement> Records(string path) => File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public async Task BestOfN_TinyModel_EveryPromptGetsARecord_ParseFailuresCounted_BadLinesAreErrors()
    {
        string input = _dir.Combine("prompts.jsonl");
        await File.WriteAllLinesAsync(input,
        [
            """{"id":"given","instruction":"Capital of France?","candidates":["Paris","Lyon","Nice"]}""",
            """{"id":"broken","instruction":""",
            """{"id":"sampled","instruction":"Name a colour."}""",
            """{"id":"img","instruction":"Is it a cat?","candidates":["yes","no"],"media":[{"modality":"image","path":"cat.png"}]}""",
        ]);
        string output = _dir.Combine("best.jsonl");

        var result = await CliRunner.RunAsync("best-of-n", "--model", TinyModel(), "--input", input, "--output", output, "--max-new-tokens", "6", "--dtype", "float32",
            "--policy", TinyModel(), "-n", "3", "--temperatures", "4,6", "--policy-max-new-tokens", "5", "--method", "knockout");

        Assert.Equal(2, result.ExitCode);
        var records = Records(output);
        Assert.Equal(["given", "line:2", "sampled", "img"], records.Select(r => r.GetProperty("id").GetString()));
        // Random weights cannot follow the protocol: nothing is chosen, and every failed parse is counted.
        Assert.Equal("no_choice", records[0].GetProperty("status").GetString());
        Assert.False(records[0].TryGetProperty("choice", out _));
        Assert.Equal(2, records[0].GetProperty("parse_failures").GetInt32());           // 3 candidates: one match and a bye, then the final
        Assert.Equal(2, records[0].GetProperty("matches").GetArrayLength());
        Assert.Equal("error", records[1].GetProperty("status").GetString());
        Assert.Contains("line 2:", records[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        var sampled = records[2].GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal(3, sampled.Count);
        Assert.All(sampled, c => Assert.Equal("policy", c.GetProperty("source").GetString()));
        Assert.Equal([4f, 6f, 4f], sampled.Select(c => c.GetProperty("temperature").GetSingle()));
        Assert.Equal("error", records[3].GetProperty("status").GetString());
        Assert.Contains("cannot take image input", records[3].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("4 prompt(s) (0 from earlier runs): 2 error, 2 no_choice", result.Error, StringComparison.Ordinal);
        Assert.Contains("best-of-n: 4/4 prompts", result.Error, StringComparison.Ordinal);   // plain progress lines off a terminal
        Assert.True(File.Exists(output + ".job.db"));
    }

    [Fact]
    public async Task Dpo_TinyModel_WritesRecordsExportsAndStatistics()
    {
        string input = _dir.Combine("mol.jsonl");
        await File.WriteAllLinesAsync(input,
        [
            """{"id":"m1","cid":2244,"names":["aspirin"],"task_type":"detailed_structural_descriptions","system":"You are a chemist.","instruction":"Describe the molecule <mol>.","smiles":"CC(=O)OC1=CC=CC=C1C(=O)O"}""",
            """{"id":"m2","instruction":"Describe the molecule <mol>.","candidates":["a","b"]}""",
        ]);
        string output = _dir.Combine("dpo.jsonl");

        var result = await CliRunner.RunAsync("dpo", "--model", TinyModel(), "--input", input, "--output", output, "--max-new-tokens", "6", "--dtype", "float32",
            "--policy", TinyModel(), "--policy-max-new-tokens", "4", "--mol-llama", _dir.Combine("mol-pairs.jsonl"), "--llamafactory", _dir.Combine("lf.jsonl"));

        Assert.Equal(2, result.ExitCode);
        var records = Records(output);
        Assert.Equal("ok", records[0].GetProperty("status").GetString());
        Assert.Equal([0.8f, 1.2f], records[0].GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("temperature").GetSingle()));   // the Flex-Mol temperatures
        var judgment = Assert.Single(records[0].GetProperty("judgments").EnumerateArray().ToList());
        Assert.Equal(["AB", "BA"], judgment.GetProperty("samples").EnumerateArray().Select(s => s.GetProperty("order").GetString()));
        Assert.Equal("unparsed", records[0].GetProperty("dropped")[0].GetProperty("reason").GetString());
        Assert.Equal("error", records[1].GetProperty("status").GetString());
        Assert.Contains("has no \"cid\"", records[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        using var stats = JsonDocument.Parse(await File.ReadAllTextAsync(output + ".stats.json"));
        Assert.Equal(2, stats.RootElement.GetProperty("prompts").GetInt32());
        Assert.Equal(1, stats.RootElement.GetProperty("prompts_failed").GetInt32());
        Assert.Equal(0, stats.RootElement.GetProperty("pairs_kept").GetInt32());
        Assert.Equal(1, stats.RootElement.GetProperty("dropped").GetProperty("unparsed").GetInt32());
        Assert.Empty(await File.ReadAllLinesAsync(_dir.Combine("mol-pairs.jsonl")));   // nothing kept, nothing exported
        Assert.True(File.Exists(_dir.Combine("lf.jsonl.dataset_info.json")));
        Assert.Contains("dpo: kept 0 of 1 judged pair(s)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExistingJob_ChangedSettings_IsRefused_ForceNewStartsOver()
    {
        string input = _dir.Combine("p.jsonl");
        await File.WriteAllLinesAsync(input, ["""{"id":"a","instruction":"Q?","candidates":["x","y"]}"""]);
        string output = _dir.Combine("o.jsonl");
        string[] common = ["best-of-n", "--model", TinyModel(), "--input", input, "--output", output, "--dtype", "float32"];

        var first = await CliRunner.RunAsync([.. common, "--max-new-tokens", "4"]);
        var again = await CliRunner.RunAsync([.. common, "--max-new-tokens", "4"]);
        var changed = await CliRunner.RunAsync([.. common, "--max-new-tokens", "5", "--resume"]);
        var forced = await CliRunner.RunAsync([.. common, "--max-new-tokens", "5", "--force-new"]);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("Pass --resume to continue it", again.Error, StringComparison.Ordinal);
        Assert.Equal(2, changed.ExitCode);
        Assert.Contains("judge.max_new_tokens: 4 -> 5", changed.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", changed.Error, StringComparison.Ordinal);
        Assert.Equal(0, forced.ExitCode);
        Assert.Single(await File.ReadAllLinesAsync(output));
    }

    [Fact]
    public async Task Resume_AfterKillMinus9_LosesNoItemAndJudgesNoneTwice()
    {
        const int prompts = 60;
        string input = _dir.Combine("many.jsonl");
        await File.WriteAllLinesAsync(input, Enumerable.Range(0, prompts).Select(i =>
            $$"""{"id":"p{{i}}","instruction":"Question number {{i}}?","candidates":["answer {{i}} one","answer {{i}} two","answer {{i}} three"]}"""));
        string output = _dir.Combine("killed.jsonl");
        string[] args = ["best-of-n", "--model", TinyModel(), "--input", input, "--output", output, "--max-new-tokens", "16", "--dtype", "float32"];

        // A separate process, killed with SIGKILL once some prompts are committed.
        var child = Process.Start(new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "judgehost"), args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        child.ErrorDataReceived += (_, _) => { };
        child.BeginErrorReadLine();
        child.BeginOutputReadLine();
        var deadline = Stopwatch.StartNew();
        while (CommittedLines(output) < 3 && !child.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(10);
        }

        child.Kill(entireProcessTree: true);
        await child.WaitForExitAsync();
        Assert.NotEqual(0, child.ExitCode);
        var before = StoredRecords(output + ".job.db");
        Assert.InRange(before.Count, 3, prompts - 1);   // killed mid-run: some committed, not all

        var resumed = await CliRunner.RunAsync([.. args, "--resume"]);

        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains($"({before.Count} from earlier runs)", resumed.Error, StringComparison.Ordinal);
        var after = StoredRecords(output + ".job.db");
        Assert.Equal(prompts, after.Count);
        Assert.Equal(before, after.Take(before.Count));                                  // earlier items untouched, not re-judged
        var lines = Records(output);
        Assert.Equal(Enumerable.Range(0, prompts).Select(i => $"p{i}"), lines.Select(r => r.GetProperty("id").GetString()));   // each once, in order
    }

    private static int CommittedLines(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Count(c => c == '\n');
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static List<(string Id, string Record)> StoredRecords(string db)
    {
        using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT item_id, record FROM items ORDER BY seq";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetString(1)));
        }

        return rows;
    }
}

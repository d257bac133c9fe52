using JudgeHost.Backbone;
using JudgeHost.Judging;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Judging;

/// <summary>The prefilled prefix a backend keeps between calls (knockout rounds judge the same prompt again).</summary>
[Collection(TorchCollection.Name)]
public sealed class TextJudgeBackendPrefixTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private TextModel Model()
    {
        string path = _dir.Combine("tiny");
        if (!Directory.Exists(path))
        {
            TinyCheckpoint.WriteWithTokenizer(path, "qwen2", new TinyCheckpoint.Shape(Hidden: 32, Intermediate: 64, Heads: 2, KvHeads: 1), Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), seed: 9);
        }

        return TextModel.Load(path, ScalarType.Float32, CPU);
    }

    private static JudgePrompt[] Round(string a, string b)
    {
        const string user = "[Question]\nWhich answer is right?\n\n";
        return
        [
            new JudgePrompt("You are a judge.", user + $"[Assistant 1's Answer]\n{a}\n\n[Assistant 2's Answer]\n{b}", "", [], user.Length),
            new JudgePrompt("You are a judge.", user + $"[Assistant 1's Answer]\n{b}\n\n[Assistant 2's Answer]\n{a}", "", [], user.Length),
        ];
    }

    [Fact]
    public void Generate_ALaterCallOnTheSamePrefix_ForksTheKeptPrefix_AndAnswersAsAFreshBackend()
    {
        using var model = Model();
        var settings = new GenerationSettings(6, 0f, 1f, 0, []);
        var kept = new TextJudgeBackend(model.Generator, model.RequireTokenizer(), model.RequireTemplate(), model.EosIds);
        var fresh = new TextJudgeBackend(model.Generator, model.RequireTokenizer(), model.RequireTemplate(), model.EosIds);

        kept.Generate(Round("12", "13"), settings);
        var second = kept.Generate(Round("12", "7"), settings);
        var alone = fresh.Generate(Round("12", "7"), settings);

        Assert.Equal(1, kept.PrefixPrefills);
        Assert.Equal(alone.Select(o => o.Text), second.Select(o => o.Text));
        Assert.Equal(alone.Select(o => o.PromptTokens), second.Select(o => o.PromptTokens));
    }

    [Fact]
    public void Generate_AnotherPrompt_PrefillsItsOwnPrefix()
    {
        using var model = Model();
        var settings = new GenerationSettings(4, 0f, 1f, 0, []);
        var backend = new TextJudgeBackend(model.Generator, model.RequireTokenizer(), model.RequireTemplate(), model.EosIds);
        var other = Round("1", "2").Select(p => p with { System = "You are a strict judge." }).ToArray();

        backend.Generate(Round("1", "2"), settings);
        backend.Generate(other, settings);
        backend.Generate(Round("1", "3"), settings);

        Assert.Equal(3, backend.PrefixPrefills);
    }

    [Fact]
    public void Generate_DifferentPromptsInOneCall_DecodeTogether_AndEachAnswersAsAlone()
    {
        // A wider random checkpoint than the others here: its greedy continuations differ between prompts.
        string path = _dir.Combine("wide");
        TinyCheckpoint.WriteWithTokenizer(path, "qwen2", new TinyCheckpoint.Shape(), Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), seed: 1);
        using var model = TextModel.Load(path, ScalarType.Float32, CPU);
        var settings = new GenerationSettings(10, 0f, 1f, 0, []);
        string[] systems = ["You are a judge.", "You are a strict judge of arithmetic answers, and you explain yourself.", "Judge."];
        var prompts = systems.SelectMany((system, i) => Round($"{i * 17}", $"{i + 3}").Select(p => p with { System = system })).ToArray();
        var together = new TextJudgeBackend(model.Generator, model.RequireTokenizer(), model.RequireTemplate(), model.EosIds);

        var batched = together.Generate(prompts, settings);
        var alone = prompts.Chunk(2).SelectMany(pair => new TextJudgeBackend(model.Generator, model.RequireTokenizer(), model.RequireTemplate(), model.EosIds).Generate(pair, settings)).ToArray();

        Assert.Equal(3, together.PrefixPrefills);                           // one prefix per system prompt, decoded as one batch of 6 rows
        Assert.Equal(alone.Select(o => (o.Text, o.Tokens, o.StoppedBy, o.PromptTokens)), batched.Select(o => (o.Text, o.Tokens, o.StoppedBy, o.PromptTokens)));
        Assert.True(alone.Select(o => o.Text).Distinct().Count() > 1, "the rows must differ for the comparison to mean anything");
    }
}

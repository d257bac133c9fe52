using System.Text;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Training;

namespace JudgeHost.Tests.Training;

public sealed class BpeTrainerTests : IDisposable
{
    private static readonly string Template = Path.Combine(RepoPaths.Root, "tools", "tokenizer", "templates", "qwen2_5_instruct.jinja");
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static List<string> Corpus() =>
        Curriculum.Generate(120, seed: 4, heldOut: false)
            .Select(i => ChatTemplate.ForFormat(ChatTemplateFormat.Qwen25).Render(i.Messages, addGenerationPrompt: false))
            .ToList();

    [Fact]
    public void Write_TrainedTokenizer_LoadsAndRoundTripsAnyText_WithSingleIdSpecials()
    {
        var corpus = Corpus();
        int size = BpeTrainer.Write(_dir.Path, corpus, 500, File.ReadAllText(Template));

        var tokenizer = HfTokenizer.Load(_dir.Path);

        Assert.Equal(500, size);
        Assert.Equal(500, tokenizer.VocabSize);
        foreach (string text in new[] { "What is 21 * 12?", "日本語のテキスト", "emoji 🙂👍🏽", "  runs   of spaces\n\n\nand newlines\t", "Ünïcödé café" })
        {
            Assert.Equal(text.Normalize(NormalizationForm.FormC), tokenizer.Decode(tokenizer.Encode(text)));
        }

        Assert.Single(tokenizer.Encode("<|im_end|>"));
        Assert.Equal(tokenizer.TokenToId("<|im_start|>"), tokenizer.Encode("<|im_start|>user")[0]);
        int bytes = Encoding.UTF8.GetByteCount(corpus[0]);
        Assert.True(tokenizer.Encode(corpus[0]).Count < bytes * 0.4, "the merges should compress the training text");
    }

    [Fact]
    public void Write_ChatTemplateAndEos_AreWhatTheJudgeNeeds()
    {
        BpeTrainer.Write(_dir.Path, Corpus(), 400, File.ReadAllText(Template));
        var tokenizer = HfTokenizer.Load(_dir.Path);

        var template = ChatTemplate.FromTokenizer(tokenizer, "qwen2");

        Assert.Equal(ChatTemplateFormat.Qwen25, template.Format);
        Assert.Equal(tokenizer.TokenToId("<|im_end|>"), tokenizer.EosTokenId);
    }

    [Fact]
    public void Train_VocabularyBelowTheBytes_IsRefused()
    {
        var e = Assert.Throws<JudgeHostException>(() => BpeTrainer.Train(["abc"], 200, 3));

        Assert.Contains("256", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_IsDeterministic()
    {
        var a = BpeTrainer.Train(Corpus(), 400, 3);
        var b = BpeTrainer.Train(Corpus(), 400, 3);

        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(a.Vocab, b.Vocab);
    }
}

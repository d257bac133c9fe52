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
    public void Write_SpacedDigits_KeepsTheSpaceOnANumbersFirstDigit_DigitsStillOnePerToken_AndRoundTrips()
    {
        // 120 chats and 700 entries: enough for every " d" merge, so each number's first digit is one spaced token.
        BpeTrainer.Write(_dir.Path, Corpus(), 700, File.ReadAllText(Template), BpeTrainer.PatternNamed("spaced-digits"));
        var tokenizer = HfTokenizer.Load(_dir.Path);

        var pieces = tokenizer.Encode("What is 76 + 603?\n139").Select(id => tokenizer.IdToToken(id)!).ToList();

        // Byte-level form: 'Ġ' is the space, 'Ċ' the newline (which, unlike a space, is not glued to a digit).
        Assert.Equal(["Ġ7", "6", "Ġ6", "0", "3", "1", "3", "9"], pieces.Where(p => p.Any(char.IsDigit)));
        Assert.DoesNotContain("Ġ", pieces);
        Assert.Equal("So  42 is 9.5", tokenizer.Decode(tokenizer.Encode("So  42 is 9.5")));
        Assert.Throws<JudgeHostException>(() => BpeTrainer.PatternNamed("gpt2"));
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

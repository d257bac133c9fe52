using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;

namespace JudgeHost.Tests.Backbone;

/// <summary>
/// Renders against Fixtures/tokenizers/chat_goldens.json: each checkpoint family's real chat_template rendered with a
/// Jinja engine (tools/tokenizer/make_fixtures.js), and the ids of that text.
/// </summary>
public sealed class ChatTemplateTests
{
    private static readonly Lazy<JsonDocument> Goldens =
        new(() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, "tokenizers", "chat_goldens.json"))));

    public static TheoryData<string, string> GoldenCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in Goldens.Value.RootElement.GetProperty("cases").EnumerateArray())
        {
            data.Add(c.GetProperty("template").GetString()!, c.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Theory]
    [InlineData("qwen3", ChatTemplateFormat.Qwen3)]       // from the qwen3 fixture's tokenizer_config.json
    [InlineData("llama3", ChatTemplateFormat.Llama3)]     // from the llama3_1 fixture's tokenizer_config.json
    [InlineData("qwen2", ChatTemplateFormat.Qwen2)]       // Qwen2-Instruct's template
    [InlineData("qwen2_5", ChatTemplateFormat.Qwen25)]    // Qwen2.5-Instruct's template
    [InlineData("llama3_1", ChatTemplateFormat.Llama31)]  // Llama-3.1-Instruct's template
    public void Detect_RealTemplateText_FindsItsFamily(string template, ChatTemplateFormat expected)
    {
        string text = Goldens.Value.RootElement.GetProperty("templates").GetProperty(template).GetProperty("chat_template").GetString()!;

        Assert.Equal(expected, ChatTemplate.Detect(text));
    }

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Render_Conversation_MatchesJinjaRenderingByteForByte(string template, string name)
    {
        var golden = Case(template, name);
        var root = Goldens.Value.RootElement.GetProperty("templates").GetProperty(template);
        var chat = ChatTemplate.ForFormat(ChatTemplate.Detect(root.GetProperty("chat_template").GetString()!)!.Value);
        var messages = golden.GetProperty("messages").EnumerateArray()
            .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();
        var thinking = golden.GetProperty("enable_thinking");

        string rendered = chat.Render(messages, golden.GetProperty("add_generation_prompt").GetBoolean(), thinking.ValueKind != JsonValueKind.False);

        Assert.Equal(golden.GetProperty("rendered").GetString(), rendered);
    }

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Encode_RenderedPrompt_MatchesReferenceIds(string template, string name)
    {
        var golden = Case(template, name);
        string tokenizerName = Goldens.Value.RootElement.GetProperty("templates").GetProperty(template).GetProperty("tokenizer").GetString()!;
        var tokenizer = HfTokenizerTests.Tokenizer(tokenizerName);

        var ids = tokenizer.Encode(golden.GetProperty("rendered").GetString()!);

        Assert.Equal(golden.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()), ids);
    }

    [Fact]
    public void Load_Qwen3Fixture_UsesItsTemplate()
    {
        var chat = ChatTemplate.Load(HfTokenizerTests.FixtureDir("qwen3"));

        Assert.Equal(ChatTemplateFormat.Qwen3, chat.Format);
        Assert.Null(chat.BosToken);
    }

    [Fact]
    public void Load_Llama31Fixture_UsesItsTemplateAndBos()
    {
        var chat = ChatTemplate.Load(HfTokenizerTests.FixtureDir("llama3_1"));

        Assert.Equal(ChatTemplateFormat.Llama3, chat.Format);
        Assert.Equal("<|begin_of_text|>", chat.BosToken);
    }

    [Fact]
    public void FromTokenizer_TakesTemplateAndBosFromTokenizerConfig()
    {
        var chat = ChatTemplate.FromTokenizer(HfTokenizerTests.Tokenizer("llama3_1"));

        Assert.Equal(ChatTemplateFormat.Llama3, chat.Format);
        Assert.StartsWith("<|begin_of_text|><|start_header_id|>user", chat.Render([new ChatMessage("user", "hi")]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("qwen2", ChatTemplateFormat.Qwen25)]  // Qwen2 and Qwen2.5 share model_type; 2.5 is the common one
    [InlineData("qwen3", ChatTemplateFormat.Qwen3)]
    [InlineData("llama", ChatTemplateFormat.Llama31)]
    public void Load_NoChatTemplate_FallsBackToModelType(string modelType, ChatTemplateFormat expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\"}");
        File.WriteAllText(dir.Combine("config.json"), $"{{\"model_type\": \"{modelType}\"}}");

        Assert.Equal(expected, ChatTemplate.Load(dir.Path).Format);
    }

    [Fact]
    public void Load_UnknownTemplate_IsUserError()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("tokenizer_config.json"), "{\"chat_template\": \"{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}\"}");

        var e = Assert.Throws<JudgeHostException>(() => ChatTemplate.Load(dir.Path));

        Assert.Contains("chat_template", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Llama31WithDate_WritesThatDate()
    {
        var chat = ChatTemplate.ForFormat(ChatTemplateFormat.Llama31);

        string rendered = chat.Render([new ChatMessage("user", "hi")], addGenerationPrompt: false, dateString: "01 Jan 2025");

        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
            rendered);
    }

    [Fact]
    public void Render_LlamaTrim_StripsPythonWhitespace()
    {
        // Hand-derived: jinja2's trim is Python's str.strip(), which also strips U+001F (not char.IsWhiteSpace).
        var chat = ChatTemplate.ForFormat(ChatTemplateFormat.Llama3);

        string rendered = chat.Render([new ChatMessage("user", "\u001F\u3000hi\u00A0\n")], addGenerationPrompt: false);

        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>", rendered);
    }

    [Fact]
    public void Render_NoMessages_Throws()
    {
        Assert.Throws<ArgumentException>(() => ChatTemplate.ForFormat(ChatTemplateFormat.Qwen3).Render([]));
    }

    [Fact]
    public void Render_ToolRole_Throws()
    {
        Assert.Throws<ArgumentException>(() => ChatTemplate.ForFormat(ChatTemplateFormat.Qwen25).Render([new ChatMessage("tool", "{}")]));
    }

    private static JsonElement Case(string template, string name) =>
        Goldens.Value.RootElement.GetProperty("cases").EnumerateArray()
            .Single(c => c.GetProperty("template").GetString() == template && c.GetProperty("name").GetString() == name);
}

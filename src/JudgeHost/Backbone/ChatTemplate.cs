using System.Text;
using System.Text.Json;
using JudgeHost.Abstractions;

namespace JudgeHost.Backbone;

/// <summary>
/// Renders a conversation to the prompt text a checkpoint's Jinja chat_template produces under transformers'
/// apply_chat_template (system, user and assistant turns, no tools). The family is recognised from the template
/// text in tokenizer_config.json, or from config.json's model_type when there is none. Encode the result with
/// <c>addSpecialTokens: false</c>: the Llama templates already write the BOS.
/// </summary>
public sealed class ChatTemplate
{
    /// <summary>The date Llama 3.1's template writes when the caller passes no date_string.</summary>
    public const string Llama31DefaultDate = "26 Jul 2024";

    private const string QwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
    private const string Qwen2DefaultSystem = "You are a helpful assistant.";
    private const string LlamaBos = "<|begin_of_text|>";

    // Python's str.isspace() set, which jinja2's trim filter strips (wider than char.IsWhiteSpace: U+001C-U+001F).
    private const string PythonWhitespace =
        "\t\n\u000B\u000C\r\u001C\u001D\u001E\u001F \u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000";

    private ChatTemplate(ChatTemplateFormat format, string? bosToken)
    {
        Format = format;
        BosToken = bosToken ?? (format is ChatTemplateFormat.Llama3 or ChatTemplateFormat.Llama31 or ChatTemplateFormat.MolLlama3 ? LlamaBos : null);
    }

    public ChatTemplateFormat Format { get; }

    /// <summary>The text the Llama templates write first (tokenizer_config.json's bos_token); null for Qwen.</summary>
    public string? BosToken { get; }

    public static ChatTemplate ForFormat(ChatTemplateFormat format, string? bosToken = null) => new(format, bosToken);

    /// <summary>The family of a chat_template text, or null when it is none this class can reproduce.</summary>
    public static ChatTemplateFormat? Detect(string templateText)
    {
        ArgumentNullException.ThrowIfNull(templateText);
        if (templateText.Contains("<|im_start|>", StringComparison.Ordinal))
        {
            return templateText.Contains("<think>", StringComparison.Ordinal) ? ChatTemplateFormat.Qwen3
                : templateText.Contains(QwenDefaultSystem, StringComparison.Ordinal) ? ChatTemplateFormat.Qwen25
                : templateText.Contains(Qwen2DefaultSystem, StringComparison.Ordinal) ? ChatTemplateFormat.Qwen2
                : null;
        }

        if (templateText.Contains("<|start_header_id|>", StringComparison.Ordinal))
        {
            return templateText.Contains("Cutting Knowledge Date", StringComparison.Ordinal) ? ChatTemplateFormat.Llama31 : ChatTemplateFormat.Llama3;
        }

        return null;
    }

    /// <summary>The template of a model directory: tokenizer_config.json's chat_template, else config.json's model_type.</summary>
    public static ChatTemplate Load(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        string configPath = Path.Combine(modelDirectory, "tokenizer_config.json");
        string? template = null, bos = null;
        if (File.Exists(configPath))
        {
            using var doc = HfTokenizerFile.ParseJson(configPath);
            template = HfTokenizerFile.ReadChatTemplate(doc.RootElement);
            bos = HfTokenizerFile.TokenString(doc.RootElement, "bos_token");
        }

        string? modelType = null;
        if (File.Exists(Path.Combine(modelDirectory, "config.json")))
        {
            var config = ModelConfigFile.Read(modelDirectory);
            modelType = config.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        }

        return Create(template, bos, modelType, configPath);
    }

    /// <summary>The template that goes with a loaded tokenizer (its chat_template text and BOS).</summary>
    public static ChatTemplate FromTokenizer(HfTokenizer tokenizer, string? modelType = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Create(tokenizer.ChatTemplateText, tokenizer.BosToken, modelType, "tokenizer_config.json");
    }

    private static ChatTemplate Create(string? template, string? bos, string? modelType, string source)
    {
        // Mol-LLaMA builds its Llama-3 prompts by hand and never applies the tokenizer's chat_template.
        if (modelType == MolLlamaConfig.ModelType)
        {
            return new ChatTemplate(ChatTemplateFormat.MolLlama3, LlamaBos);
        }

        if (template is not null)
        {
            return Detect(template) is { } format
                ? new ChatTemplate(format, bos)
                : throw new JudgeHostException(
                    $"The chat_template in '{source}' is not one this host can render (Qwen2, Qwen2.5 or Qwen3 ChatML; " +
                    "Llama 3 or 3.1 headers). Use a checkpoint of one of those families.");
        }

        // No template (a base checkpoint): use the family's instruct template, as its fine-tunes do.
        ChatTemplateFormat? byType = modelType switch
        {
            "qwen2" => ChatTemplateFormat.Qwen25,
            "qwen3" => ChatTemplateFormat.Qwen3,
            "llama" => ChatTemplateFormat.Llama31,
            _ => null,
        };
        return byType is { } f
            ? new ChatTemplate(f, bos)
            : throw new JudgeHostException(
                $"'{source}' has no chat_template and model_type '{modelType ?? "(none)"}' names no known family. " +
                "Use an instruct checkpoint of Qwen2, Qwen2.5, Qwen3 or Llama 3.1.");
    }

    /// <summary>
    /// The prompt text. <paramref name="addGenerationPrompt"/> opens an assistant turn; <paramref name="enableThinking"/>
    /// false makes Qwen3 start that turn with an empty think block; <paramref name="dateString"/> is Llama 3.1's
    /// "Today Date" (default <see cref="Llama31DefaultDate"/>).
    /// </summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true, bool enableThinking = true, string? dateString = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            throw new ArgumentException("A conversation needs at least one message.", nameof(messages));
        }

        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            if (message.Role is not ("system" or "user" or "assistant") || message.Content is null)
            {
                throw new ArgumentException($"Message role '{message.Role}' is not supported; use system, user or assistant with non-null content.", nameof(messages));
            }
        }

        var text = new StringBuilder();
        switch (Format)
        {
            case ChatTemplateFormat.Qwen2:
            case ChatTemplateFormat.Qwen25:
                RenderQwen2(text, messages, Format == ChatTemplateFormat.Qwen2 ? Qwen2DefaultSystem : QwenDefaultSystem);
                break;
            case ChatTemplateFormat.Qwen3:
                RenderQwen3(text, messages);
                break;
            case ChatTemplateFormat.Llama3:
                for (int i = 0; i < messages.Count; i++)
                {
                    text.Append(i == 0 ? BosToken : null).Append(LlamaTurn(messages[i].Role, Strip(messages[i].Content, PythonWhitespace)));
                }

                break;
            case ChatTemplateFormat.Llama31:
                RenderLlama31(text, messages, dateString ?? Llama31DefaultDate);
                break;
            case ChatTemplateFormat.MolLlama3:
                RenderMolLlama3(text, messages);
                return text.ToString();
        }

        if (addGenerationPrompt)
        {
            text.Append(Format is ChatTemplateFormat.Llama3 or ChatTemplateFormat.Llama31 ? "<|start_header_id|>assistant<|end_header_id|>\n\n" : "<|im_start|>assistant\n");
            if (Format == ChatTemplateFormat.Qwen3 && !enableThinking)
            {
                text.Append("<think>\n\n</think>\n\n");
            }
        }

        return text.ToString();
    }

    private static void RenderQwen2(StringBuilder text, IReadOnlyList<ChatMessage> messages, string defaultSystem)
    {
        // Both templates write a system turn first (the caller's, else the default) and every other turn as it is.
        if (messages[0].Role != "system")
        {
            text.Append(ImTurn("system", defaultSystem));
        }

        foreach (var message in messages)
        {
            text.Append(ImTurn(message.Role, message.Content));
        }
    }

    private static void RenderQwen3(StringBuilder text, IReadOnlyList<ChatMessage> messages)
    {
        // The last user turn that is not a wrapped tool response: assistant turns after it keep their reasoning.
        int lastQuery = messages.Count - 1;
        for (int i = messages.Count - 1; i >= 0; i--)
        {
            string c = messages[i].Content;
            if (messages[i].Role == "user" && !(c.StartsWith("<tool_response>", StringComparison.Ordinal) && c.EndsWith("</tool_response>", StringComparison.Ordinal)))
            {
                lastQuery = i;
                break;
            }
        }

        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Role != "assistant")
            {
                text.Append(ImTurn(message.Role, message.Content));
                continue;
            }

            string content = message.Content, reasoning = string.Empty;
            int close = content.IndexOf("</think>", StringComparison.Ordinal);
            if (close >= 0)
            {
                // Python: content.split('</think>')[-1].lstrip('\n') and
                // content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n').
                string before = Strip(content[..close], "\n", left: false);
                int open = before.LastIndexOf("<think>", StringComparison.Ordinal);
                reasoning = Strip(open >= 0 ? before[(open + "<think>".Length)..] : before, "\n", right: false);
                content = Strip(content[(content.LastIndexOf("</think>", StringComparison.Ordinal) + "</think>".Length)..], "\n", right: false);
            }

            text.Append("<|im_start|>assistant\n");
            if (i > lastQuery && (i == messages.Count - 1 || reasoning.Length > 0))
            {
                text.Append("<think>\n").Append(Strip(reasoning, "\n")).Append("\n</think>\n\n").Append(Strip(content, "\n", right: false));
            }
            else
            {
                text.Append(content);
            }

            text.Append("<|im_end|>\n");
        }
    }

    private void RenderLlama31(StringBuilder text, IReadOnlyList<ChatMessage> messages, string date)
    {
        bool hasSystem = messages[0].Role == "system";
        text.Append(BosToken)
            .Append("<|start_header_id|>system<|end_header_id|>\n\n")
            .Append("Cutting Knowledge Date: December 2023\n")
            .Append("Today Date: ").Append(date).Append("\n\n")
            .Append(hasSystem ? Strip(messages[0].Content, PythonWhitespace) : string.Empty)
            .Append("<|eot_id|>");
        for (int i = hasSystem ? 1 : 0; i < messages.Count; i++)
        {
            text.Append(LlamaTurn(messages[i].Role, Strip(messages[i].Content, PythonWhitespace)));
        }
    }

    // data_provider/tokenization_utils.py tokenize_messages_llama3: the reference's text, segment by segment. The
    // assistant header belongs to the user turn there, so it is written after every user turn whatever
    // addGenerationPrompt says; an assistant turn is its content and <|eot_id|>.
    private void RenderMolLlama3(StringBuilder text, IReadOnlyList<ChatMessage> messages)
    {
        foreach (var message in messages)
        {
            switch (message.Role)
            {
                case "system":
                    text.Append(BosToken).Append("<|start_header_id|>system<|end_header_id|>\n\n").Append(message.Content).Append("<|eot_id|>");
                    break;
                case "user":
                    text.Append("<|start_header_id|>user<|end_header_id|>\n\n").Append(message.Content).Append("<|eot_id|>")
                        .Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
                    break;
                default:
                    text.Append(message.Content).Append("<|eot_id|>");
                    break;
            }
        }
    }

    private static string ImTurn(string role, string content) => $"<|im_start|>{role}\n{content}<|im_end|>\n";

    private static string LlamaTurn(string role, string content) => $"<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>";

    /// <summary>Python's str.strip / lstrip / rstrip with an explicit character set.</summary>
    private static string Strip(string value, string chars, bool left = true, bool right = true)
    {
        int start = 0, end = value.Length;
        while (left && start < end && chars.Contains(value[start], StringComparison.Ordinal))
        {
            start++;
        }

        while (right && end > start && chars.Contains(value[end - 1], StringComparison.Ordinal))
        {
            end--;
        }

        return value[start..end];
    }
}

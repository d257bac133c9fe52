using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Store;

namespace JudgeHost.Training;

/// <summary>One tokenized training sample: ids and which of them are trained on (assistant tokens only).</summary>
/// <param name="Ids">The chat rendered by the checkpoint's template, tokenized.</param>
/// <param name="Trained">Per id: true where the id belongs to an assistant turn (content and its end-of-turn token).</param>
/// <param name="Line">The JSONL line it came from.</param>
public sealed record SftSample(int[] Ids, bool[] Trained, int Line);

/// <summary>
/// Reads SFT samples: JSONL lines <c>{"messages":[{"role":"system|user|assistant","content":"..."}, ...]}</c>, rendered
/// with the checkpoint's chat template. Each assistant turn's tokens are found by rendering the conversation up to it
/// (with the generation prompt) and through it; the tokens in between — its content and the end-of-turn token — are
/// trained on, everything else is context (the loss TRL computes with <c>assistant_only_loss</c>).
/// </summary>
public static class SftData
{
    public static async Task<IReadOnlyList<SftSample>> LoadAsync(string path, HfTokenizer tokenizer, ChatTemplate template, int maxLength, int[] eosIds, CancellationToken cancellationToken = default)
    {
        var samples = new List<SftSample>();
        await foreach (var (line, text) in JsonlReader.ReadLinesAsync(path, cancellationToken).ConfigureAwait(false))
        {
            List<ChatMessage> messages;
            try
            {
                using var doc = JsonDocument.Parse(text);
                messages = doc.RootElement.GetProperty("messages").EnumerateArray()
                    .Select(m => new ChatMessage(m.GetProperty("role").GetString() ?? "", m.GetProperty("content").GetString() ?? ""))
                    .ToList();
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new JudgeHostException($"'{path}' line {line}: not an SFT sample ({e.Message}). Each line needs {{\"messages\":[{{\"role\":...,\"content\":...}}]}}.", e);
            }

            samples.Add(Tokenize(messages, tokenizer, template, maxLength, eosIds, $"'{path}' line {line}", line));
        }

        return samples.Count > 0 ? samples : throw new JudgeHostException($"'{path}' has no samples.");
    }

    public static SftSample Tokenize(IReadOnlyList<ChatMessage> messages, HfTokenizer tokenizer, ChatTemplate template, int maxLength, int[] eosIds, string where, int line = 0)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(template);
        if (!messages.Any(m => m.Role == "assistant"))
        {
            throw new JudgeHostException($"{where}: no assistant message; there is nothing to train on.");
        }

        var full = tokenizer.Encode(template.Render(messages, addGenerationPrompt: false)).ToArray();
        var trained = new bool[full.Length];
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i].Role != "assistant")
            {
                continue;
            }

            var before = tokenizer.Encode(template.Render(messages.Take(i).ToList(), addGenerationPrompt: true));
            var through = tokenizer.Encode(template.Render(messages.Take(i + 1).ToList(), addGenerationPrompt: false));
            if (!StartsWith(through, before) || !StartsWith(full, through))
            {
                throw new JudgeHostException($"{where}: the chat template does not render turn {i} as a prefix of the conversation; assistant tokens cannot be located.");
            }

            int end = through.Count;
            for (int k = before.Count; k < through.Count; k++)
            {
                if (eosIds.Contains(through[k]))
                {
                    end = k + 1;   // through the end-of-turn token; the template's trailing newline is context
                    break;
                }
            }

            for (int k = before.Count; k < end; k++)
            {
                trained[k] = true;
            }
        }

        if (full.Length > maxLength)
        {
            throw new JudgeHostException($"{where}: {full.Length} tokens, above --max-length {maxLength}. Shorten the sample or raise the limit.");
        }

        return new SftSample(full, trained, line);
    }

    private static bool StartsWith(IReadOnlyList<int> ids, IReadOnlyList<int> prefix)
    {
        if (prefix.Count > ids.Count)
        {
            return false;
        }

        for (int i = 0; i < prefix.Count; i++)
        {
            if (ids[i] != prefix[i])
            {
                return false;
            }
        }

        return true;
    }
}

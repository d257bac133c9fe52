using System.Text.Json;
using JudgeHost.Pipelines;

namespace JudgeHost.Store;

/// <summary>One line of a prompt file: the parsed prompt, or why it could not be read.</summary>
/// <param name="Line">1-based line number.</param>
/// <param name="Id">The prompt id, or <c>line:N</c> when none could be read.</param>
/// <param name="Item">The prompt, or null.</param>
/// <param name="Error">What is wrong with the line, or null.</param>
public sealed record PromptLine(int Line, string Id, PromptItem? Item, string? Error);

/// <summary>
/// Streams <c>best-of-n</c> / <c>dpo</c> prompts from JSONL. A malformed line (bad JSON, missing id, no question,
/// a duplicate id) becomes a <see cref="PromptLine"/> with an error naming the line; reading goes on.
/// </summary>
public static class PromptReader
{
    public static async IAsyncEnumerable<PromptLine> ReadAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var (number, line) in JsonlReader.ReadLinesAsync(path, ct))
        {
            var parsed = Parse(line, number);
            if (parsed.Item is not null && !seen.Add(parsed.Id))
            {
                // Keyed by line, not by the id: the id is the earlier line's key in outputs and job stores.
                yield return parsed with { Id = $"line:{number}", Item = null, Error = $"line {number}: id '{parsed.Id}' was already used by an earlier line; ids must be unique." };
                continue;
            }

            yield return parsed;
        }
    }

    public static PromptLine Parse(string line, int number)
    {
        string id = $"line:{number}";
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("id", out var idEl))
            {
                id = idEl.ValueKind == JsonValueKind.String ? idEl.GetString()! : idEl.GetRawText();
            }

            var item = doc.RootElement.Deserialize<PromptItem>(JudgeJson.Options) ?? throw new JsonException("the line is null");
            if (string.IsNullOrWhiteSpace(item.Question))
            {
                return new RequestError(number, item.Id, "has no question: give \"instruction\", or \"messages\" with a user turn").Line;
            }

            if (item.Candidates is { } c && c.Any(string.IsNullOrEmpty))
            {
                return new RequestError(number, item.Id, "has an empty candidate; remove it or give its text").Line;
            }

            return new PromptLine(number, item.Id, item, null);
        }
        catch (JsonException e)
        {
            string message = e.Message;
            int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            message = (cut > 0 ? message[..cut] : message).TrimEnd('.');
            string at = e.Path is { Length: > 1 } p ? $" (at {p})" : "";
            return new PromptLine(number, id, null, $"line {number}: {message}{at}. Fix the line (schema: README, 'best-of-n and dpo input').");
        }
    }

    private sealed record RequestError(int Number, string Id, string What)
    {
        public PromptLine Line => new(Number, Id, null, $"line {Number}: prompt '{Id}' {What}.");
    }
}

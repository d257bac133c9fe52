using System.Text.Json;
using JudgeHost.Judging;

namespace JudgeHost.Store;

/// <summary>One line of a request file: the parsed request, or why it could not be read.</summary>
/// <param name="Line">1-based line number.</param>
/// <param name="Id">The request id, or <c>line:N</c> when none could be read.</param>
/// <param name="Request">The request, or null.</param>
/// <param name="Error">What is wrong with the line, or null.</param>
public sealed record RequestLine(int Line, string Id, JudgeRequest? Request, string? Error);

/// <summary>
/// Streams judge requests from JSONL. A malformed line (bad JSON, a missing or unknown field, an unknown task)
/// becomes a <see cref="RequestLine"/> with an error naming the line and the field; reading goes on. Blank lines
/// are skipped; duplicate ids are errors (outputs are keyed by id).
/// </summary>
public static class JsonlReader
{
    /// <summary>The non-blank lines of a UTF-8 JSONL file with their 1-based numbers.</summary>
    public static async IAsyncEnumerable<(int Number, string Text)> ReadLinesAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        if (!File.Exists(path))
        {
            throw new JudgeHost.Abstractions.JudgeHostException($"Input file '{path}' does not exist.");
        }

        using var reader = new StreamReader(path, System.Text.Encoding.UTF8);
        int number = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            number++;
            if (!string.IsNullOrWhiteSpace(line))
            {
                yield return (number, line);
            }
        }
    }

    public static async IAsyncEnumerable<RequestLine> ReadRequestsAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var (number, line) in ReadLinesAsync(path, ct))
        {
            var parsed = Parse(line, number);
            if (parsed.Request is not null && !seen.Add(parsed.Id))
            {
                yield return parsed with { Request = null, Error = $"line {number}: id '{parsed.Id}' was already used by an earlier line; ids must be unique." };
                continue;
            }

            yield return parsed;
        }
    }

    public static RequestLine Parse(string line, int number)
    {
        string id = $"line:{number}";
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("id", out var idEl))
            {
                id = idEl.ValueKind == JsonValueKind.String ? idEl.GetString()! : idEl.GetRawText();
            }

            var request = doc.RootElement.Deserialize<JudgeRequest>(JudgeJson.Options)
                ?? throw new JsonException("the line is null");
            return new RequestLine(number, request.Id, request, null);
        }
        catch (JsonException e)
        {
            return new RequestLine(number, id, null, $"line {number}: {Describe(e)} Fix the line (schema: README, 'judge' input).");
        }
    }

    internal static string Describe(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        message = cut > 0 ? message[..cut] : message;
        return e.Path is { Length: > 1 } p ? $"{message.TrimEnd('.')} (at {p})." : message.EndsWith('.') ? message : message + ".";
    }
}

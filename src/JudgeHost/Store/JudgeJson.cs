using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace JudgeHost.Store;

/// <summary>JSON settings of every JSONL file JudgeHost reads and writes: snake_case names as declared, UTF-8, one line per record.</summary>
public static class JudgeJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };
}

using System.Text.Json;
using JudgeHost.Abstractions;

namespace JudgeHost.Backbone;

/// <summary>Reads the few generic facts of a <c>config.json</c> that the host needs before picking a model class.</summary>
public static class ModelConfigFile
{
    public static JsonElement Read(string directory)
    {
        string path = Path.Combine(directory, "config.json");
        if (!File.Exists(path))
        {
            throw new JudgeHostException($"Model directory '{directory}' has no config.json. Pass a Hugging Face model directory to --model.");
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CorruptCheckpointException($"'{path}' is not a JSON object. Re-download the checkpoint.");
            }

            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CorruptCheckpointException($"'{path}' is not valid JSON ({e.Message}). Re-download the checkpoint.", e);
        }
    }

    public static string ModelType(JsonElement config, string directory) =>
        config.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()!
            : throw new CorruptCheckpointException($"config.json in '{directory}' has no model_type. Re-download the checkpoint.");

    public static int HiddenSize(JsonElement config, string directory)
    {
        if (config.TryGetProperty("hidden_size", out var h) && h.TryGetInt32(out int v))
        {
            return v;
        }

        if (config.TryGetProperty("text_config", out var tc) && tc.TryGetProperty("hidden_size", out h) && h.TryGetInt32(out v))
        {
            return v;
        }

        throw new CorruptCheckpointException($"config.json in '{directory}' has no hidden_size. Re-download the checkpoint.");
    }
}

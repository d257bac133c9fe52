using System.Text.Json;

namespace JudgeHost.Backbone;

/// <summary>Stop ids from <c>generation_config.json</c> (falling back to config.json's <c>eos_token_id</c>).</summary>
public static class GenerationConfigFile
{
    public static int[] EosIds(string directory, DecoderConfig config)
    {
        string path = Path.Combine(directory, "generation_config.json");
        if (File.Exists(path))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
                if (doc.RootElement.TryGetProperty("eos_token_id", out var eos))
                {
                    return DecoderConfig.ReadIds(eos);
                }
            }
            catch (JsonException e)
            {
                throw new JudgeHost.Abstractions.CorruptCheckpointException($"'{path}' is not valid JSON ({e.Message}). Fix or remove it.", e);
            }
        }

        return DecoderConfig.ReadIds(config.EosTokenId);
    }
}

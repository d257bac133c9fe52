using System.Text.Json;
using JudgeHost.Judging;

namespace JudgeHost.Tests.Judging;

public sealed class MediaEncodersTests
{
    [Theory]
    [InlineData("qwen2_5_omni", """{"thinker_config":{"position_id_per_seconds":25,"vision_config":{"tokens_per_second":2}}}""", 25)]   // Omni: the thinker's value, not the tower's
    [InlineData("qwen2_5_omni", """{"thinker_config":{}}""", 25)]                                                                     // Omni class default
    [InlineData("qwen2_5_vl", """{"vision_config":{"tokens_per_second":2}}""", 2)]                                                    // released Qwen2.5-VL
    [InlineData("qwen2_5_vl", """{"vision_config":{}}""", 2)]                                                                         // absent: 2
    public void TemporalPositionsPerSecond_ComesFromTheFamilysKey(string family, string config, double expected)
    {
        using var doc = JsonDocument.Parse(config);

        Assert.Equal(expected, MediaEncoders.TemporalPositionsPerSecond(doc.RootElement, family));
    }
}

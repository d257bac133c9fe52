using JudgeHost.Backbone;
using JudgeHost.Cli;

namespace Modalities.Audio.Tests;

/// <summary><c>judgehost inspect mel</c> reaches the audio plugin from the plugin folder and writes the reference's tensors.</summary>
public sealed class InspectMelCommandTests
{
    private static string PluginsDir => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Fixtures.PathOf("manifest.json")))!, "..", "..", "plugins");

    [Fact]
    public async Task InspectMel_Wav_WritesFeaturesAndMaskOfTheReference()
    {
        var c = Fixtures.Case("speech_tone_24000_s24_stereo");
        string outPath = Path.Combine(Path.GetTempPath(), $"mel-{Guid.NewGuid():N}.safetensors");
        var output = new StringWriter();
        var error = new StringWriter();
        try
        {
            int code = await CliApp.InvokeAsync(["--plugins-dir", PluginsDir, "inspect", "mel", "--audio", c.FullPath, "--out", outPath], output, error);

            Assert.True(code == 0, error.ToString());
            Assert.Contains("\"valid_frames\":40", output.ToString(), StringComparison.Ordinal);
            using var file = SafeTensorsFile.Open(outPath);
            using var features = file.Load("input_features");
            using var mask = file.Load("feature_attention_mask");
            Assert.Equal(new long[] { 128, 3000 }, features.shape);
            Assert.Equal(TorchSharp.torch.ScalarType.Float32, features.dtype);
            Assert.Equal(TorchSharp.torch.ScalarType.Int64, mask.dtype);
            Assert.Equal((long[])c.Expected["feature_attention_mask"], mask.data<long>().ToArray());
            var kept = (float[])c.Expected["input_features"];
            int columns = kept.Length / 128;
            var actual = features.data<float>().ToArray();
            double diff = 0;
            for (int m = 0; m < 128; m++)
            {
                for (int t = 0; t < columns; t++)
                {
                    diff = Math.Max(diff, Math.Abs(actual[(m * 3000) + t] - kept[(m * columns) + t]));
                }
            }

            Assert.True(diff <= 2.5e-5, $"max |diff| {diff:E3}");
        }
        finally
        {
            File.Delete(outPath);
        }
    }

    [Fact]
    public async Task InspectMel_CorruptFile_ExitsWithUserErrorNamingIt()
    {
        string path = Fixtures.PathOf("bad/corrupt_header.wav");
        var error = new StringWriter();

        int code = await CliApp.InvokeAsync(["--plugins-dir", PluginsDir, "inspect", "mel", "--audio", path, "--out", Path.Combine(Path.GetTempPath(), "never.safetensors")], new StringWriter(), error);

        Assert.Equal(2, code);
        Assert.Contains(path, error.ToString(), StringComparison.Ordinal);
    }
}

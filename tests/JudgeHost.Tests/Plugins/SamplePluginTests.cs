using System.Diagnostics;
using JudgeHost.Backbone;
using JudgeHost.Tests.Cli;
using TorchSharp;

namespace JudgeHost.Tests.Plugins;

/// <summary>
/// The out-of-tree sample: built on its own with `dotnet build` against the contract only, dropped into a
/// plugin folder, then listed and used by the already-built host.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class SamplePluginTests
{
    [Fact]
    public async Task SamplePlugin_BuiltSeparately_IsListedAndEncodesThroughTheHost()
    {
        using var dir = new TempDir();
        string plugins = dir.Combine("plugins") + "/";
        var build = Process.Start(new ProcessStartInfo("dotnet",
            ["build", Path.Combine(RepoPaths.Root, "samples", "TimeSeriesModality", "TimeSeriesModality.csproj"), $"-p:JudgeHostPluginsDir={plugins}", "-nologo", "-v:q"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string buildLog = await build.StandardOutput.ReadToEndAsync() + await build.StandardError.ReadToEndAsync();
        await build.WaitForExitAsync();
        Assert.True(build.ExitCode == 0, buildLog);
        string[] files = Directory.GetFiles(Path.Combine(plugins, "TimeSeriesModality")).Select(Path.GetFileName).ToArray()!;
        Assert.Contains("TimeSeriesModality.dll", files);
        Assert.DoesNotContain("JudgeHost.Abstractions.dll", files);
        Assert.DoesNotContain("TorchSharp.dll", files);

        var list = await CliRunner.RunAsync("plugins", "list", "--plugins-dir", plugins);
        Assert.Matches(@"TimeSeries\s+timeseries\s+\S+\s+loaded", list.Output);

        // A model directory with the projection the plugin owns (hidden 4, patch 8).
        string model = dir.Combine("model");
        Directory.CreateDirectory(model);
        await File.WriteAllTextAsync(Path.Combine(model, "config.json"), """{"model_type":"qwen2","hidden_size":4}""");
        using var weight = torch.randn(4, 8, generator: torch.manual_seed(7));
        using var bias = torch.randn(4, generator: torch.manual_seed(8));
        SafeTensorsWriter.Write(Path.Combine(model, "model.safetensors"), [new("timeseries_encoder.proj.weight", weight), new("timeseries_encoder.proj.bias", bias)]);
        string outFile = dir.Combine("emb.safetensors");

        float[] series = Enumerable.Range(0, 11).Select(i => MathF.Sin(i * 0.7f) * 3 + 1).ToArray();
        var result = await CliRunner.RunAsync("inspect", "encode", "--plugins-dir", plugins, "--modality", "timeseries", "--model", model,
            "--value", string.Join(",", series.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))), "--out", outFile);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("\"tokens\":2", result.Output, StringComparison.Ordinal);

        // Independent reference: z-normalise, pad with the last value to 16, project.
        float mean = series.Average();
        float std = MathF.Sqrt(series.Select(v => (v - mean) * (v - mean)).Average());
        float[] padded = [.. series, .. Enumerable.Repeat(series[^1], 5)];
        float[] w = weight.data<float>().ToArray();
        float[] b = bias.data<float>().ToArray();
        using var file = SafeTensorsFile.Open(outFile);
        using var embeddings = file.Load("embeddings");
        float[] got = embeddings.data<float>().ToArray();
        for (int p = 0; p < 2; p++)
        {
            for (int h = 0; h < 4; h++)
            {
                float expected = b[h] + Enumerable.Range(0, 8).Sum(k => w[(h * 8) + k] * ((padded[(p * 8) + k] - mean) / (std + 1e-5f)));
                Assert.Equal(expected, got[(p * 4) + h], 4);
            }
        }
    }
}

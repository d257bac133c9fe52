using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Tests.Cli;
using TorchSharp;

namespace JudgeHost.Tests.Backbone;

public sealed class CheckpointConverterTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Convert_ToBfloat16_StoresEveryTensorRoundedOnce_KeepsNamesOrderAndOtherFiles()
    {
        string source = _dir.Combine("fp32");
        string target = _dir.Combine("bf16");
        TinyCheckpoint.Write(source, "qwen2", new TinyCheckpoint.Shape(), seed: 3);
        File.WriteAllText(Path.Combine(source, "tokenizer.json"), "{\"marker\": 1}");

        var run = await CliRunner.RunAsync("tools", "convert", "--model", source, "--out", target, "--dtype", "bfloat16");

        Assert.True(run.ExitCode == 0, run.Error);
        using var before = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors"));
        using var after = SafeTensorsFile.Open(Path.Combine(target, "model.safetensors"));
        Assert.Equal(before.Entries.Select(e => e.Name), after.Entries.Select(e => e.Name));
        foreach (var entry in before.Entries)
        {
            Assert.Equal(torch.ScalarType.BFloat16, after[entry.Name].DType);
            Assert.Equal(entry.Shape, after[entry.Name].Shape);
            using var expected = before.Load(entry.Name).to(torch.ScalarType.BFloat16);
            using var actual = after.Load(entry.Name);
            Assert.True(expected.eq(actual).all().item<bool>(), entry.Name);
        }

        Assert.Equal("bfloat16", JsonNode.Parse(File.ReadAllText(Path.Combine(target, "config.json")))!["torch_dtype"]!.GetValue<string>());
        Assert.Equal(File.ReadAllText(Path.Combine(source, "tokenizer.json")), File.ReadAllText(Path.Combine(target, "tokenizer.json")));
    }

    [Fact]
    public void Convert_IntoItself_OrFromAFolderWithoutWeights_IsATypedError()
    {
        string source = _dir.Combine("m");
        TinyCheckpoint.Write(source, "qwen2", new TinyCheckpoint.Shape(), seed: 3);

        Assert.Throws<JudgeHostException>(() => CheckpointConverter.Convert(source, source, torch.ScalarType.BFloat16));
        var e = Assert.Throws<JudgeHostException>(() => CheckpointConverter.Convert(_dir.Combine("none"), _dir.Combine("out"), torch.ScalarType.BFloat16));
        Assert.Contains("safetensors", e.Message, StringComparison.Ordinal);
    }
}

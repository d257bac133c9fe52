using JudgeHost.Backbone;
using JudgeHost.Tests.Plugins;

namespace JudgeHost.Tests.Cli;

[Collection(TorchCollection.Name)]
public sealed class CliTests
{
    [Fact]
    public async Task PluginsList_WithPlugins_PrintsEveryColumnAndExitsZero()
    {
        using var folder = new PluginFolder().With("FakeModality").With("FutureContractPlugin");

        var result = await CliRunner.RunAsync("plugins", "list", "--plugins-dir", folder.Path);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("NAME", result.Output, StringComparison.Ordinal);
        Assert.Contains("MODALITIES", result.Output, StringComparison.Ordinal);
        Assert.Contains("REASON", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"Fake\s+fake\s+1\.0\.0\.0\s+loaded\s+\S+FakeModality\.dll", result.Output);
        Assert.Matches(@"FutureContractPlugin\s+-\s+1\.0\.0\.0\s+incompatible\s+\S+FutureContractPlugin\.dll\s+it was built against contract 2\.0", result.Output);
    }

    [Fact]
    public async Task PluginsList_Json_EmitsOneObjectPerPlugin()
    {
        using var folder = new PluginFolder().With("FakeModality");

        var result = await CliRunner.RunAsync("plugins", "list", "--json", "--plugins-dir", folder.Path);

        Assert.Equal(0, result.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Output.Trim());
        Assert.Equal("Fake", doc.RootElement.GetProperty("name").GetString());
        Assert.Equal("loaded", doc.RootElement.GetProperty("status").GetString());
        Assert.Equal("1.1", doc.RootElement.GetProperty("contract").GetString());
    }

    [Fact]
    public async Task PluginsDir_FromConfigFile_IsUsed()
    {
        using var folder = new PluginFolder().With("FakeModality");
        using var dir = new TempDir();
        string config = dir.Combine("settings.json");
        await File.WriteAllTextAsync(config, $$"""{ "PluginHost": { "Directory": "{{folder.Path}}" } }""");

        var result = await CliRunner.RunAsync("plugins", "list", "--config", config);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(folder.Path, result.Output, StringComparison.Ordinal);
        Assert.Contains("loaded", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommand_IsParseError_ExitOne()
    {
        var result = await CliRunner.RunAsync("no-such-verb");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no-such-verb", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingConfigFile_IsUserError_ExitTwoWithoutStackTrace()
    {
        var result = await CliRunner.RunAsync("plugins", "list", "--config", "/nonexistent/judgehost.json");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: Configuration file '/nonexistent/judgehost.json' does not exist.", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserError_WithVerbose_PrintsStackTrace()
    {
        var result = await CliRunner.RunAsync("plugins", "list", "--verbose", "--config", "/nonexistent/judgehost.json");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptionValue_InConfig_IsRejectedAtStart()
    {
        using var dir = new TempDir();
        string config = dir.Combine("bad.json");
        await File.WriteAllTextAsync(config, """{ "Torch": { "Device": "tpu", "Threads": -3 } }""");

        var result = await CliRunner.RunAsync("plugins", "list", "--config", config);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Torch:Device 'tpu' is not one of cpu, cuda, cuda:N, auto.", result.Error, StringComparison.Ordinal);
        Assert.Contains("Torch:Threads is -3", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedConfigJson_IsUserError()
    {
        using var dir = new TempDir();
        string config = dir.Combine("broken.json");
        await File.WriteAllTextAsync(config, "{ \"PluginHost\": ");

        var result = await CliRunner.RunAsync("plugins", "list", "--config", config);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Configuration could not be read", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_CreatesATensorThroughTheHost()
    {
        var result = await CliRunner.RunAsync("info", "--device", "cpu");

        Assert.Equal(0, result.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Output.Trim());
        Assert.Equal("cpu", doc.RootElement.GetProperty("device").GetString());
        // arange(6).reshape(2,3) @ its transpose = [[5, 14], [14, 50]]
        Assert.Equal([5f, 14f, 14f, 50f], doc.RootElement.GetProperty("check").EnumerateArray().Select(e => e.GetSingle()).ToArray());
    }

    [Fact]
    public async Task Info_CudaWithoutCuda_IsUserErrorWithAdvice()
    {
        if (TorchRuntime.CudaAvailable())
        {
            return; // this machine has CUDA; the error path cannot occur here
        }

        var result = await CliRunner.RunAsync("info", "--device", "cuda");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("CUDA is not available", result.Error, StringComparison.Ordinal);
        Assert.Contains("--device cpu", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectEncode_FakePlugin_PrintsShapeAndLayout()
    {
        using var folder = new PluginFolder().With("FakeModality");

        var result = await CliRunner.RunAsync("inspect", "encode", "--plugins-dir", folder.Path, "--modality", "fake", "--value", "hey", "--hidden", "8");

        Assert.Equal(0, result.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Output.Trim());
        Assert.Equal(3, doc.RootElement.GetProperty("tokens").GetInt32());
        Assert.Equal(8, doc.RootElement.GetProperty("hidden").GetInt32());
        Assert.Equal("sequence", doc.RootElement.GetProperty("layout").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task InspectEncode_InvalidMedia_IsUserErrorNamingTheItem()
    {
        using var folder = new PluginFolder().With("FakeModality");

        var result = await CliRunner.RunAsync("inspect", "encode", "--plugins-dir", folder.Path, "--modality", "fake", "--path", "x.bin");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("fake 'x.bin'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectEncode_ModalityWithoutPlugin_IsUserError()
    {
        using var folder = new PluginFolder();

        var result = await CliRunner.RunAsync("inspect", "encode", "--plugins-dir", folder.Path, "--modality", "image", "--path", "cat.png");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("No loaded plugin provides modality 'image'", result.Error, StringComparison.Ordinal);
    }
}

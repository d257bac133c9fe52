using JudgeHost.Abstractions;
using JudgeHost.Hosting;
using JudgeHost.Plugins;
using Microsoft.Extensions.DependencyInjection;
using TorchSharp;

namespace JudgeHost.Tests.Plugins;

[Collection(TorchCollection.Name)]
public sealed class PluginCatalogTests
{
    private static JudgeHostApp CreateApp(PluginFolder folder, StringWriter? log = null) =>
        JudgeHostApp.Create(new HostSettings(false, folder.Path, null), log ?? new StringWriter());

    [Fact]
    public void Load_FakePlugin_IsLoadedWithItsModality()
    {
        using var folder = new PluginFolder().With("FakeModality");
        using var app = CreateApp(folder);

        var entry = Assert.Single(app.Catalog.Entries);
        Assert.Equal(PluginStatus.Loaded, entry.Status);
        Assert.Equal("Fake", entry.Name);
        Assert.Equal(["fake"], entry.Modalities);
        Assert.Equal(new Version(1, 1, 0, 0), entry.ContractVersion);
        Assert.Null(entry.Reason);
    }

    [Fact]
    public void Encode_TensorMadeInPlugin_IsUsableByHost()
    {
        using var folder = new PluginFolder().With("FakeModality");
        using var app = CreateApp(folder);
        var factory = new EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog).Resolve("fake", "qwen2");
        var context = new EncoderContext
        {
            Family = "qwen2",
            Config = System.Text.Json.JsonDocument.Parse("{}").RootElement,
            HiddenSize = 4,
            Device = torch.CPU,
            DType = torch.ScalarType.Float32,
            Weights = new JudgeHost.Backbone.EmptyWeightSource("none"),
            ModelDirectory = "",
            Logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
        };

        using var encoder = factory.Create(context);
        using var encoded = encoder.Encode(MediaItem.FromValue("fake", "AB"));

        // The plugin's tensor has the host's torch.Tensor type identity and works with host-side ops.
        Assert.IsType<torch.Tensor>(encoded.Embeddings);
        using var sum = encoded.Embeddings.sum(dim: 1);
        Assert.Equal(new[] { (65 * 4) + 6f, (66 * 4) + 6f }, sum.data<float>().ToArray());
        Assert.Equal(new PositionLayout.Sequence(2), encoded.Layout);
    }

    [Fact]
    public void Load_PluginThatThrowsWhileRegistering_IsFailedAndLeavesNoServices()
    {
        using var folder = new PluginFolder().With("ThrowingPlugin").With("FakeModality");
        var log = new StringWriter();
        using var app = CreateApp(folder, log);

        var entry = app.Catalog.Entries.Single(e => e.Path.EndsWith("ThrowingPlugin.dll", StringComparison.Ordinal));
        Assert.Equal(PluginStatus.Failed, entry.Status);
        Assert.Contains("registration failed on purpose", entry.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Services.GetServices<IModalityEncoderFactory>(), f => f.Modality == "half");
        Assert.Contains(app.Services.GetServices<IModalityEncoderFactory>(), f => f.Modality == "fake");
        Assert.Contains("ThrowingPlugin", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PluginMissingADependency_IsFailedAndNamesIt()
    {
        using var folder = new PluginFolder().With("MissingDependencyPlugin");
        using var app = CreateApp(folder);

        var entry = Assert.Single(app.Catalog.Entries);
        Assert.Equal(PluginStatus.Failed, entry.Status);
        Assert.Contains("MissingDependency.Helper", entry.Reason, StringComparison.Ordinal);
        Assert.Contains("dependency", entry.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PluginBuiltAgainstNewerContract_IsIncompatible()
    {
        using var folder = new PluginFolder().With("FutureContractPlugin");
        using var app = CreateApp(folder);

        var entry = Assert.Single(app.Catalog.Entries);
        Assert.Equal(PluginStatus.Incompatible, entry.Status);
        Assert.Equal(new Version(2, 0, 0, 0), entry.ContractVersion);
        Assert.Contains("newer than this host's 1.1", entry.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CorruptAssembly_IsFailedAndOthersStillLoad()
    {
        using var folder = new PluginFolder()
            .With("FakeModality")
            .WithFile("Corrupt/Corrupt.dll", [0x4d, 0x5a, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        using var app = CreateApp(folder);

        var corrupt = app.Catalog.Entries.Single(e => e.Name == "Corrupt");
        Assert.Equal(PluginStatus.Failed, corrupt.Status);
        Assert.Contains("corrupt", corrupt.Reason, StringComparison.Ordinal);
        Assert.Equal(PluginStatus.Loaded, app.Catalog.Entries.Single(e => e.Name == "Fake").Status);
    }

    [Fact]
    public void Load_FolderWithoutMatchingDll_IsFailed()
    {
        using var folder = new PluginFolder().WithFile("Empty/readme.txt", [0x41]);
        using var app = CreateApp(folder);

        var entry = Assert.Single(app.Catalog.Entries);
        Assert.Equal(PluginStatus.Failed, entry.Status);
        Assert.Contains("Empty.dll", entry.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingPluginFolder_IsEmptyCatalog()
    {
        using var app = JudgeHostApp.Create(new HostSettings(false, Path.Combine(Path.GetTempPath(), "no-such-plugins-" + Guid.NewGuid()), null), new StringWriter());
        Assert.Empty(app.Catalog.Entries);
    }

    [Fact]
    public void Resolve_UnknownModality_NamesSkippedPlugins()
    {
        using var folder = new PluginFolder().With("ThrowingPlugin");
        using var app = CreateApp(folder);
        var resolver = new EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog);

        var e = Assert.Throws<PluginLoadException>(() => resolver.Resolve("image", "qwen2_5_vl"));
        Assert.Contains("No loaded plugin provides modality 'image'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Throwing", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1, null)]                       // the host's own contract
    [InlineData(1, 0, null)]                       // an older minor: everything it uses still exists
    [InlineData(1, 2, "newer than this host's")]    // a newer minor may use members this host lacks
    [InlineData(2, 0, "newer than this host's")]    // a newer major is a breaking change
    [InlineData(0, 9, "older major")]               // an older major no longer binds
    public void Incompatibility_FollowsTheContractVersionRule(int major, int minor, string? expected)
    {
        string? why = ContractReference.Incompatibility(new Version(major, minor, 0, 0));
        if (expected is null)
        {
            Assert.Null(why);
        }
        else
        {
            Assert.Contains(expected, why, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Incompatibility_NoContractReference_IsNotAPlugin() =>
        Assert.Contains("not a JudgeHost plugin", ContractReference.Incompatibility(null), StringComparison.Ordinal);

    [Fact]
    public void PluginFolders_CarryNoContractTorchOrNativeLibraries()
    {
        var folders = Directory.GetDirectories(RepoPaths.TestPlugins).ToList();
        string inRepoPlugins = Path.Combine(RepoPaths.Root, "plugins");
        if (Directory.Exists(inRepoPlugins))
        {
            folders.AddRange(Directory.GetDirectories(inRepoPlugins));
        }

        Assert.Contains(folders, f => f.EndsWith("FakeModality", StringComparison.Ordinal));
        foreach (string folder in folders)
        {
            var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToArray();
            Assert.DoesNotContain("JudgeHost.Abstractions.dll", files);
            Assert.DoesNotContain("TorchSharp.dll", files);
            Assert.DoesNotContain(files, f => f!.StartsWith("libtorch", StringComparison.Ordinal) || f.StartsWith("libLibTorchSharp", StringComparison.Ordinal) || f == "libc10.so");
        }
    }
}

using JudgeHost.Backbone;
using JudgeHost.Tests.Plugins;

namespace JudgeHost.Tests.Cli;

/// <summary>
/// Base of the CLI tests that run the in-repo media plugins (built into plugins/ by the solution) on a tiny random
/// Qwen2.5-VL or Qwen2.5-Omni checkpoint: a private plugin folder holding copies of the named plugins, and the
/// checkpoint, made once.
/// </summary>
public abstract class TinyVisionCliTests : IDisposable
{
    protected TinyVisionCliTests(params string[] plugins)
    {
        foreach (string plugin in plugins)
        {
            PluginFolder.CopyDirectory(Path.Combine(RepoPaths.Root, "plugins", plugin), Path.Combine(Plugins.Path, plugin));
        }
    }

    protected TempDir Dir { get; } = new();

    protected PluginFolder Plugins { get; } = new();

    public void Dispose()
    {
        Plugins.Dispose();
        Dir.Dispose();
        GC.SuppressFinalize(this);
    }

    protected string TinyVL()
    {
        string path = Dir.Combine("tiny-vl");
        if (!Directory.Exists(path))
        {
            TinyVisionCheckpoint.Write(path, Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), seed: 2);
        }

        return path;
    }

    protected string TinyOmni()
    {
        string path = Dir.Combine("tiny-omni");
        if (!Directory.Exists(path))
        {
            TinyOmniCheckpoint.Write(path, Path.Combine(RepoPaths.Fixtures, "tokenizers", "qwen3"), seed: 2);
        }

        return path;
    }
}

namespace JudgeHost.Tests.Plugins;

/// <summary>Builds a temporary plugin folder from the test plugins built into artifacts/testplugins.</summary>
public sealed class PluginFolder : IDisposable
{
    private readonly TempDir _dir = new();

    public string Path => _dir.Path;

    public PluginFolder With(string testPlugin)
    {
        string source = System.IO.Path.Combine(RepoPaths.TestPlugins, testPlugin);
        Assert.True(Directory.Exists(source), $"Test plugin {testPlugin} was not built into {source}.");
        CopyDirectory(source, System.IO.Path.Combine(Path, testPlugin));
        return this;
    }

    public PluginFolder WithFile(string relativePath, byte[] content)
    {
        string full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        return this;
    }

    public void Dispose() => _dir.Dispose();

    public static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(source))
        {
            File.Copy(file, System.IO.Path.Combine(target, System.IO.Path.GetFileName(file)), overwrite: true);
        }

        foreach (string dir in Directory.GetDirectories(source))
        {
            CopyDirectory(dir, System.IO.Path.Combine(target, System.IO.Path.GetFileName(dir)));
        }
    }
}

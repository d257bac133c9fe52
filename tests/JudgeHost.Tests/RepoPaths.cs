namespace JudgeHost.Tests;

/// <summary>Locates the repository (the folder holding JudgeHost.sln) from the test binaries.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Fixtures => Path.Combine(Root, "tests", "JudgeHost.Tests", "Fixtures");

    public static string TestPlugins => Path.Combine(Root, "artifacts", "testplugins");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "JudgeHost.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No JudgeHost.sln above {AppContext.BaseDirectory}.");
    }
}

using System.Text.Json;

namespace Modalities.Molecule.Tests;

/// <summary>The committed output of tools/molecule/make_molecule_fixtures.py (Debian's RDKit 2022.09.3).</summary>
internal static class MoleculeFixtures
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "JudgeHost.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No JudgeHost.sln above {AppContext.BaseDirectory}.");
    });

    private static readonly Lazy<JsonElement> MoleculesJson = new(() => Load("molecules.json"));
    private static readonly Lazy<JsonElement> InvalidJson = new(() => Load("invalid.json"));

    public static string Root => Path.Combine(RootDir.Value, "tests", "Modalities.Molecule.Tests", "Fixtures");

    public static JsonElement Molecules => MoleculesJson.Value;

    public static JsonElement Invalid => InvalidJson.Value;

    public static long[] Longs(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();

    public static long[] FlatLongs(JsonElement e) => e.EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(x => x.GetInt64()).ToArray();

    public static double[] FlatDoubles(JsonElement e) => e.EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(x => x.GetDouble()).ToArray();

    public static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();

    private static JsonElement Load(string name) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, name))).RootElement.Clone();
}

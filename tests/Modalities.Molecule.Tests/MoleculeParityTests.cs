using Xunit.Abstractions;
using System.Text.Json;
using JudgeHost.Abstractions;

namespace Modalities.Molecule.Tests;

/// <summary>
/// The plugin against RDKit's Python API on the fixture set (tools/molecule/make_molecule_fixtures.py): the OGB graph of
/// every molecule must match exactly; the generated conformers (same RDKit build, same seed) are expected to match
/// exactly too, and are checked on a quarter of the set by default (conformer generation dominates the run time) and on
/// all of it with MOLECULE_FULL_PARITY=1.
/// </summary>
public sealed class MoleculeParityTests(ITestOutputHelper output)
{
    /// <summary>Å. Equal builds of RDKit with equal seeds give bit-identical coordinates; this bounds what we accept.</summary>
    private const double CoordinateTolerance = 1e-6;

    private static readonly MoleculeFeaturizer Featurizer = new(new MoleculeOptions());

    [Fact]
    public void Fixture_IsLargeAndVaried()
    {
        var molecules = MoleculeFixtures.Molecules.GetProperty("molecules").EnumerateArray().ToArray();
        Assert.True(molecules.Length >= 300, $"only {molecules.Length} molecules");
        Assert.Equal(MoleculeFixtures.Molecules.GetProperty("rdkit_version").GetString(), RdkitMolecule.RdkitVersion);
        Assert.Contains(molecules, m => m.GetProperty("smiles").GetString()!.Contains('.', StringComparison.Ordinal));
        Assert.Contains(molecules, m => m.GetProperty("smiles").GetString()!.Contains('@', StringComparison.Ordinal));
        Assert.Contains(molecules, m => m.GetProperty("smiles").GetString()!.Contains('+', StringComparison.Ordinal));
    }

    [Fact]
    public void Graph_EveryFixtureMolecule_MatchesRdkitExactly()
    {
        var mismatches = new List<string>();
        int count = 0;
        foreach (var m in MoleculeFixtures.Molecules.GetProperty("molecules").EnumerateArray())
        {
            string smiles = m.GetProperty("smiles").GetString()!;
            var graph = MoleculeFeaturizer.GraphFromSmiles(smiles);
            if (GraphDifference(graph, m.GetProperty("graph")) is { } why)
            {
                mismatches.Add($"{smiles}: {why}");
            }

            count++;
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count}/{count} graphs differ:\n{string.Join("\n", mismatches.Take(20))}");
    }

    [Fact]
    public void Conformer_FixtureMolecules_MatchRdkit()
    {
        bool full = Environment.GetEnvironmentVariable("MOLECULE_FULL_PARITY") == "1";
        var molecules = MoleculeFixtures.Molecules.GetProperty("molecules").EnumerateArray()
            .Where((m, i) => full || (i % 4 == 0 && m.GetProperty("graph").GetProperty("atomic_num").GetArrayLength() <= 40))
            .ToArray();
        var failures = new List<string>();
        double maxCoordinate = 0;
        double maxDistance = 0;
        foreach (var m in molecules)
        {
            string smiles = m.GetProperty("smiles").GetString()!;
            if (m.TryGetProperty("conformer_error", out _))
            {
                var e = Assert.ThrowsAny<InvalidMediaException>(() => Featurizer.Featurize(MediaItem.FromValue("molecule", smiles)));
                Assert.Contains("3-D coordinates", e.Message, StringComparison.Ordinal);
                continue;
            }

            var features = Featurizer.Featurize(MediaItem.FromValue("molecule", smiles));
            var (coordinate, distance, why) = CompareConformer(features, m);
            maxCoordinate = Math.Max(maxCoordinate, coordinate);
            maxDistance = Math.Max(maxDistance, distance);
            if (why is not null)
            {
                failures.Add($"{smiles}: {why}");
            }
        }

        output.WriteLine($"{molecules.Length} conformers checked, {failures.Count} differ; max |Δxyz| {maxCoordinate:g3} Å, max |Δdistance| {maxDistance:g3} Å");
        Assert.True(molecules.Length >= 60, $"only {molecules.Length} molecules checked");
        Assert.True(failures.Count == 0, $"{failures.Count}/{molecules.Length} conformers differ (max |Δxyz| {maxCoordinate:g3} Å):\n{string.Join("\n", failures.Take(20))}");
        Assert.True(maxCoordinate <= CoordinateTolerance, $"max |Δxyz| {maxCoordinate:g3} Å");
        Assert.True(maxDistance <= CoordinateTolerance, $"max |Δdistance| {maxDistance:g3} Å");
    }

    [Fact]
    public void SdfFiles_CoordinatesFromTheRequest_MatchRdkit()
    {
        var files = MoleculeFixtures.Molecules.GetProperty("files").EnumerateArray().ToArray();
        Assert.NotEmpty(files);
        foreach (var f in files)
        {
            string path = Path.Combine(MoleculeFixtures.Root, f.GetProperty("file").GetString()!);
            var features = Featurizer.Featurize(MediaItem.FromFile("molecule", path));
            Assert.True(features.CoordinatesFromFile);
            Assert.Equal(f.GetProperty("smiles").GetString(), features.Smiles);
            Assert.Null(GraphDifference(features.Graph, f.GetProperty("graph")));
            var (coordinate, distance, why) = CompareConformer(features, f);
            Assert.True(why is null, $"{path}: {why}");
            Assert.Equal(0, coordinate);
            Assert.True(distance <= CoordinateTolerance);
        }
    }

    private static string? GraphDifference(MolecularGraph graph, JsonElement expected)
    {
        var nodeFeat = MoleculeFixtures.FlatLongs(expected.GetProperty("node_feat"));
        var edgeIndex = MoleculeFixtures.FlatLongs(expected.GetProperty("edge_index"));
        var edgeFeat = MoleculeFixtures.FlatLongs(expected.GetProperty("edge_feat"));
        var atomicNum = MoleculeFixtures.Longs(expected.GetProperty("atomic_num"));
        if (!graph.AtomFeatures.SequenceEqual(nodeFeat))
        {
            return $"node_feat [{string.Join(",", graph.AtomFeatures)}] vs [{string.Join(",", nodeFeat)}]";
        }

        if (!graph.EdgeIndex.SequenceEqual(edgeIndex))
        {
            return $"edge_index [{string.Join(",", graph.EdgeIndex)}] vs [{string.Join(",", edgeIndex)}]";
        }

        if (!graph.EdgeFeatures.SequenceEqual(edgeFeat))
        {
            return $"edge_feat [{string.Join(",", graph.EdgeFeatures)}] vs [{string.Join(",", edgeFeat)}]";
        }

        return graph.AtomicNumbers.SequenceEqual(atomicNum) ? null : "atomic_num differs";
    }

    private static (double Coordinate, double Distance, string? Why) CompareConformer(MoleculeFeatures features, JsonElement expected)
    {
        var conformer = expected.GetProperty("conformer");
        var symbols = MoleculeFixtures.Strings(conformer.GetProperty("symbols"));
        var xyz = MoleculeFixtures.FlatDoubles(conformer.GetProperty("coordinates"));
        var unimol = expected.GetProperty("unimol");
        var tokens = MoleculeFixtures.Longs(unimol.GetProperty("src_tokens"));
        if (!features.Conformer.Symbols.SequenceEqual(symbols))
        {
            return (0, 0, "conformer atoms differ");
        }

        double coordinate = MaxAbs(features.Conformer.Coordinates, xyz);
        if (!features.UniMol.Tokens.SequenceEqual(tokens))
        {
            return (coordinate, 0, $"src_tokens [{string.Join(",", features.UniMol.Tokens)}] vs [{string.Join(",", tokens)}]");
        }

        // The [n+2, n+2] matrices and the centred coordinates are in the fixture for a sample of the molecules.
        double distance = 0;
        if (unimol.TryGetProperty("src_edge_type", out var edgeTypes))
        {
            coordinate = Math.Max(coordinate, MaxAbs(features.UniMol.Coordinates, MoleculeFixtures.FlatDoubles(unimol.GetProperty("src_coord"))));
            distance = MaxAbs(features.UniMol.Distances.Select(d => (double)d).ToArray(), MoleculeFixtures.FlatDoubles(unimol.GetProperty("src_distance")));
            if (!features.UniMol.EdgeTypes.SequenceEqual(MoleculeFixtures.FlatLongs(edgeTypes)))
            {
                return (coordinate, distance, "src_edge_type differs");
            }
        }

        return (coordinate, distance, coordinate <= CoordinateTolerance ? null : $"coordinates differ by {coordinate:g3} Å");
    }

    private static double MaxAbs(double[] a, double[] b)
    {
        Assert.Equal(b.Length, a.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }
}

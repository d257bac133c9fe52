using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using JudgeHost.Abstractions;
using JudgeHost.Service;
using JudgeHost.Tests.Judging;
using TorchSharp;

namespace JudgeHost.Tests.Service;

/// <summary>
/// The viewer's molecule drawing from the molecule plugin's preprocessing tensors (here written by hand in the
/// plugin's layout: OGB features, edge index, UniMol atoms and BOS/EOS-framed coordinates), and its endpoint.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed partial class MoleculeDrawingTests
{
    // Phenol in a plane tilted out of xy: a regular hexagon (C–C 1.39 Å) and an O 1.36 Å out from C0.
    private static Dictionary<string, torch.Tensor> Phenol(bool explicitHydrogen = false)
    {
        var (u, v) = (new[] { 0.8, 0.0, 0.6 }, new[] { 0.0, 1.0, 0.0 });   // orthonormal axes of the tilted plane
        var planar = Enumerable.Range(0, 6).Select(k => (X: 1.39 * Math.Cos(k * Math.PI / 3), Y: 1.39 * Math.Sin(k * Math.PI / 3)))
            .Append((X: 1.39 + 1.36, Y: 0.0)).ToList();
        var coords = new List<double> { 0, 0, 0 };                          // BOS
        foreach (var (x, y) in planar)
        {
            coords.AddRange(Enumerable.Range(0, 3).Select(d => (x * u[d]) + (y * v[d]) + 5));
        }

        coords.AddRange([0, 0, 0]);                                        // EOS
        long[] atomic = [6, 6, 6, 6, 6, 6, 8];
        var feat = atomic.SelectMany((z, i) => new long[] { z - 1, 0, i == 0 ? 3 : i == 6 ? 1 : 2, 5, i == 0 ? 0 : 1, 0, 2, i < 6 ? 1 : 0, i < 6 ? 1 : 0 }).ToArray();
        var bonds = Enumerable.Range(0, 6).Select(k => (A: k, B: (k + 1) % 6, Type: 3L)).Append((A: 0, B: 6, Type: 0L)).ToList();
        var sources = bonds.SelectMany(b => new long[] { b.A, b.B }).ToArray();
        var targets = bonds.SelectMany(b => new long[] { b.B, b.A }).ToArray();
        var edgeFeat = bonds.SelectMany(b => new long[] { b.Type, 0, 1, b.Type, 0, 1 }).ToArray();
        return new Dictionary<string, torch.Tensor>
        {
            ["atomic_num"] = torch.tensor(atomic),
            ["node_feat"] = torch.tensor(feat).view(7, 9),
            ["edge_index"] = torch.tensor([.. sources, .. targets]).view(2, sources.Length),
            ["edge_feat"] = torch.tensor(edgeFeat).view(sources.Length, 3),
            ["src_atomic_num"] = torch.tensor(explicitHydrogen ? atomic[..6] : atomic),
            ["src_coord"] = torch.tensor(coords.ToArray()).view(9, 3),
        };
    }

    private static double Distance(MoleculeAtom a, MoleculeAtom b) => Math.Sqrt(Math.Pow(a.X!.Value - b.X!.Value, 2) + Math.Pow(a.Y!.Value - b.Y!.Value, 2));

    [Fact]
    public void FromPreprocessed_Phenol_AtomsBondsAndAnEvenLayout()
    {
        var tensors = Phenol();

        var mol = MoleculeDrawing.FromPreprocessed(tensors);

        Assert.Equal(["C", "C", "C", "C", "C", "C", "O"], mol.Atoms.Select(a => a.Symbol));
        Assert.Equal((0, 1, false), (mol.Atoms[6].Charge, mol.Atoms[6].Hydrogens, mol.Atoms[6].Aromatic));
        Assert.Equal([.. Enumerable.Repeat("aromatic", 6), "single"], mol.Bonds.Select(b => b.Type));
        Assert.All(mol.Bonds, b => Assert.Equal(1.0, Distance(mol.Atoms[b.Begin], mol.Atoms[b.End]), 0.02));      // every bond one length
        Assert.Equal(2.0, Distance(mol.Atoms[0], mol.Atoms[3]), 0.05);                                              // the ring stays a regular hexagon
        Assert.Equal(3.0, Distance(mol.Atoms[3], mol.Atoms[6]), 0.05);                                              // O points straight out, across the ring from C3
        Assert.NotNull(mol.Svg);
        Assert.Equal(["OH"], TextLabel().Matches(mol.Svg!).Select(m => m.Groups[1].Value));                         // carbons unlabelled
        Assert.Equal(6, mol.Svg!.Split("stroke-dasharray").Length - 1);                                              // one dashed line per aromatic bond
        foreach (var t in tensors.Values)
        {
            t.Dispose();
        }
    }

    [Fact]
    public void FromPreprocessed_ConformerMissingAtoms_StructureWithoutDrawing()
    {
        var tensors = Phenol(explicitHydrogen: true);   // UniMol's atoms are not the graph's: no positions for every atom

        var mol = MoleculeDrawing.FromPreprocessed(tensors);

        Assert.Null(mol.Svg);
        Assert.Equal(7, mol.Atoms.Count);
        Assert.All(mol.Atoms, a => Assert.Null(a.X));
        Assert.Contains("does not cover every atom", mol.Drawing);
        foreach (var t in tensors.Values)
        {
            t.Dispose();
        }
    }

    private sealed class FakeMoleculePlugin : IMediaPreprocessor
    {
        public IReadOnlyDictionary<string, torch.Tensor> Preprocess(MediaItem item) =>
            item.Value == "c1ccccc1O" ? Phenol() : throw new InvalidMediaException($"SMILES '{item.Value}' is not phenol.");
    }

    [Fact]
    public async Task MoleculeEndpoint_DrawsWithThePlugin_422ForBadInput_501WithoutIt()
    {
        await using var withPlugin = await TestServer.StartAsync(new ScriptedBackend(_ => ""), molecules: new FakeMoleculePlugin());
        var ok = JsonNode.Parse(await withPlugin.Http.GetStringAsync("v1/media/molecule?value=c1ccccc1O"))!;
        var bad = await withPlugin.Http.GetAsync("v1/media/molecule?value=C1CC(");
        await using var without = await TestServer.StartAsync(new ScriptedBackend(_ => ""));
        var missing = await without.Http.GetAsync("v1/media/molecule?value=c1ccccc1O");

        Assert.Equal(7, ok["atoms"]!.AsArray().Count);
        Assert.StartsWith("<svg", ok["svg"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        Assert.Contains("is not phenol", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotImplemented, missing.StatusCode);
        Assert.Contains("No molecule plugin", await missing.Content.ReadAsStringAsync());
    }

    [GeneratedRegex(@"<text[^>]*>([^<]*)</text>")]
    private static partial Regex TextLabel();
}

using JudgeHost.Abstractions;

namespace Modalities.Molecule.Tests;

public sealed class InvalidSmilesTests
{
    private static readonly MoleculeFeaturizer Featurizer = new(new MoleculeOptions());

    [Theory]
    [InlineData("C1CC(", 5, "never closed")]              // unclosed branch: RDKit says only "syntax error"
    [InlineData("CC)C", 3, "never opened")]               // stray ')'
    [InlineData("C1CC", 2, "ring bond 1")]                // unclosed ring: points at the opening digit
    [InlineData("C[Xx]", 2, "not an element")]            // unknown element in brackets
    [InlineData("C==C", 3, "follows another bond")]       // two bond symbols in a row
    [InlineData("CC(C)(C)(C)(C)C", 2, "atom 1")]          // valence: RDKit names atom 1, which starts at character 2
    [InlineData("OCC[N+](C)(C)(C)C", 4, "atom 3")]        // valence of a charged bracket atom
    [InlineData("c1cccc1", 1, "Kekulé")]                  // kekulization: RDKit lists atoms 0..4
    [InlineData("CC(=)C", 4, "no atom after")]            // bond with no atom: '=' then ')'
    public void Parse_InvalidSmiles_SaysWhereAndWhy(string smiles, int position, string reason)
    {
        var e = Assert.Throws<InvalidSmilesException>(() => MoleculeFeaturizer.GraphFromSmiles(smiles));

        Assert.Equal(position, e.Position);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains($"character {position}", e.Message, StringComparison.Ordinal);
        Assert.Contains("RDKit:", e.Message, StringComparison.Ordinal);
        Assert.True(e.IsUserError);
        Assert.EndsWith(".", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EveryFixtureInvalidSmiles_ThrowsTypedErrorWithPosition()
    {
        var smiles = MoleculeFixtures.Strings(MoleculeFixtures.Invalid.GetProperty("smiles"));
        Assert.True(smiles.Length >= 20);
        foreach (string s in smiles)
        {
            var e = Assert.Throws<InvalidSmilesException>(() => MoleculeFeaturizer.GraphFromSmiles(s));
            Assert.True(e.Position is int p && p >= 1 && p <= s.Length, $"{s}: {e.Message}");
        }
    }

    [Fact]
    public void Featurize_BadItemAmongGood_OnlyThatItemFails()
    {
        string[] smiles = ["CCO", "C1CC(", "c1ccccc1"];
        var results = smiles.Select(s =>
        {
            try
            {
                return Featurizer.Featurize(MediaItem.FromValue("molecule", s)).Graph.AtomCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (InvalidMediaException e)
            {
                return e.GetType().Name;
            }
        }).ToArray();

        Assert.Equal(["3", nameof(InvalidSmilesException), "6"], results);
    }

    [Fact]
    public void Featurize_MissingOrUnsupportedFile_IsInvalidMedia()
    {
        var missing = Assert.Throws<InvalidMediaException>(() => Featurizer.Featurize(MediaItem.FromFile("molecule", "/nonexistent/x.sdf")));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        string text = Path.Combine(Path.GetTempPath(), $"mol-{Guid.NewGuid():N}.txt");
        File.WriteAllText(text, "CCO");
        try
        {
            var unsupported = Assert.Throws<InvalidMediaException>(() => Featurizer.Featurize(MediaItem.FromFile("molecule", text)));
            Assert.Contains(".sdf", unsupported.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(text);
        }
    }

    [Fact]
    public void Featurize_CorruptSdf_IsInvalidMedia()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mol-{Guid.NewGuid():N}.sdf");
        File.WriteAllText(path, "not a molfile\n\n\n  garbage\nM  END\n$$$$\n");
        try
        {
            var e = Assert.Throws<InvalidMediaException>(() => Featurizer.Featurize(MediaItem.FromFile("molecule", path)));
            Assert.Contains("RDKit could not read molecule file", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Featurize_NoValueNoPath_IsInvalidMedia() =>
        Assert.Throws<InvalidMediaException>(() => Featurizer.Featurize(new MediaItem("molecule", null, null, new Dictionary<string, string>())));
}

namespace Modalities.Molecule.Tests;

public sealed class SmilesLocatorTests
{
    [Fact]
    public void Run_ValidSmiles_ListsAtomStartsInRdkitOrder()
    {
        // Two-letter organic atoms, bracket atoms, ring digits, %nn ring bonds, branches and a dot.
        var scan = SmilesLocator.Run("Cl[C@H](Br)c1cc%12ccc1.[Na+]%12");

        Assert.Null(scan.ErrorOffset);
        Assert.Equal([0, 2, 8, 11, 13, 14, 18, 19, 20, 23], scan.AtomStarts);
    }

    [Fact]
    public void Run_AtomStarts_AgreeWithRdkitAtomCount()
    {
        // RDKit numbers atoms in order of appearance; the scanner must count the same atoms (bracket H-atoms too).
        foreach (string smiles in new[] { "[H][H]", "CC(=O)Oc1ccccc1C(=O)O", "[2H]C([2H])([2H])[2H]", "OC(=O)[C@@H](N)Cc1ccc(O)cc1", "CCO ethanol" })
        {
            var graph = MoleculeFeaturizer.GraphFromSmiles(smiles);
            Assert.Equal(graph.AtomCount, SmilesLocator.Run(smiles).AtomStarts.Count);
        }
    }

    [Theory]
    [InlineData("C%1", 1, "two-digit")]         // '%' needs two digits
    [InlineData("(C)C", 0, "no atom before")]  // branch at the start
    [InlineData("C.", 1, "ends with '.'")]      // dangling dot
    [InlineData("CC()C", 2, "empty branch")]    // empty branch
    [InlineData("C?C", 1, "unexpected")]        // character outside SMILES
    public void Run_Problem_PointsAtFirstOffendingCharacter(string smiles, int offset, string reason)
    {
        var scan = SmilesLocator.Run(smiles);

        Assert.Equal(offset, scan.ErrorOffset);
        Assert.Contains(reason, scan.Reason, StringComparison.Ordinal);
    }
}

using JudgeHost.Backbone;
using JudgeHost.Cli;

namespace Modalities.Molecule.Tests;

/// <summary>
/// <c>judgehost inspect encode --modality molecule --model DIR</c> with a <c>moleculestm</c> checkpoint: the host loads the
/// plugin from plugins/, resolves the GIN factory by family and writes the tokens the parity fixture expects.
/// </summary>
public sealed class InspectEncodeMoleculeTests
{
    private static string PluginsDir => Path.Combine(MoleculeFixtures.Root, "..", "..", "..", "plugins");

    private static string ModelDir => Path.Combine(MoleculeFixtures.Root, "gin-tiny");

    [Fact]
    public async Task InspectEncode_MoleculeStmCheckpoint_WritesTheReferenceTokens()
    {
        string outPath = Path.Combine(Path.GetTempPath(), $"gin-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            int code = await CliApp.InvokeAsync(
                ["--plugins-dir", PluginsDir, "inspect", "encode", "--modality", "molecule", "--value", "Cl.CN1CCC[C@H]1c1cccnc1", "--model", ModelDir, "--out", outPath],
                output, error);

            Assert.True(code == 0, error.ToString());
            Assert.Contains("\"tokens\":14,\"hidden\":32,\"layout\":{\"kind\":\"sequence\",\"length\":14}", output.ToString(), StringComparison.Ordinal);
            using var file = SafeTensorsFile.Open(outPath);
            using var embeddings = file.Load("embeddings");
            using var reference = SafeTensorsFile.Open(Path.Combine(ModelDir, "reference.safetensors"));
            using var expected = reference.Load("graph_embed");
            using var row = expected[10].narrow(0, 0, 14);   // fixture molecule 10 is this SMILES
            Assert.True((embeddings - row).abs().max().item<float>() <= 1e-4);
        }
        finally
        {
            File.Delete(outPath);
        }
    }

    [Fact]
    public async Task InspectEncode_InvalidSmiles_IsTypedErrorWithPosition()
    {
        using var error = new StringWriter();
        int code = await CliApp.InvokeAsync(
            ["--plugins-dir", PluginsDir, "inspect", "encode", "--modality", "molecule", "--value", "C1CC", "--model", ModelDir],
            new StringWriter(), error);

        Assert.NotEqual(0, code);
        Assert.Contains("at character 2", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectEncode_MolLlamaCheckpointWithSmiles_WritesTheEightReferenceEmbeddings()
    {
        string model = Path.Combine(MoleculeFixtures.Root, "mol-llama-tiny");
        string outPath = Path.Combine(Path.GetTempPath(), $"mol-llama-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            int code = await CliApp.InvokeAsync(
                ["--plugins-dir", PluginsDir, "inspect", "encode", "--model", model, "--smiles", "Cl.CN1CCC[C@H]1c1cccnc1", "--out", outPath],
                output, error);

            Assert.True(code == 0, error.ToString());
            Assert.Contains("\"tokens\":8,\"hidden\":64,\"layout\":{\"kind\":\"sequence\",\"length\":8}", output.ToString(), StringComparison.Ordinal);
            using var file = SafeTensorsFile.Open(outPath);
            using var embeddings = file.Load("embeddings");
            using var reference = SafeTensorsFile.Open(Path.Combine(model, "reference.safetensors"));
            using var expected = reference.Load("projected");
            using var row = expected[5];   // reference molecule 5 is this SMILES
            Assert.True((embeddings - row).abs().max().item<float>() <= 1e-4);
        }
        finally
        {
            File.Delete(outPath);
        }
    }

    [Theory]
    [InlineData("C1CC", "at character 2")]      // unclosed ring: the typed SMILES error with its position
    [InlineData("C[C]=(C", "Invalid SMILES")]   // syntax error
    public async Task InspectEncode_MolLlamaInvalidSmiles_IsTypedUserError(string smiles, string expected)
    {
        using var error = new StringWriter();
        int code = await CliApp.InvokeAsync(
            ["--plugins-dir", PluginsDir, "inspect", "encode", "--model", Path.Combine(MoleculeFixtures.Root, "mol-llama-tiny"), "--smiles", smiles],
            new StringWriter(), error);

        Assert.Equal(2, code);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectEncode_SmilesWithAnotherModality_IsRefused()
    {
        using var error = new StringWriter();
        int code = await CliApp.InvokeAsync(
            ["--plugins-dir", PluginsDir, "inspect", "encode", "--modality", "image", "--smiles", "CCO", "--hidden", "8"],
            new StringWriter(), error);

        Assert.Equal(2, code);
        Assert.Contains("--smiles", error.ToString(), StringComparison.Ordinal);
    }
}

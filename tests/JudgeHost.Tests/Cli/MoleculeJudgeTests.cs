using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Backbone;
using JudgeHost.Tests.Backbone;

namespace JudgeHost.Tests.Cli;

/// <summary>
/// Molecules end to end: the in-repo molecule plugin (RDKit featurization, Mol-LLaMA's encoders) on a tiny random
/// Mol-LLaMA (tools make-tiny layout, LoRA merged at load) through <c>judge</c>, <c>best-of-n</c> and <c>dpo</c> with the
/// reference's molecule prompts; an invalid SMILES fails only its own item (typed error naming it, exit code 2).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class MoleculeJudgeTests() : TinyVisionCliTests("Modalities.Molecule")
{
    private const string Pampa = "Predict the permeability of a given molecule to the artificial membrane in the Parallel Artificial Membrane Permeability Assay (PAMPA), high or low-to-moderate.\nMolecule <mol>.";

    private string Model()
    {
        string path = Dir.Combine("mol-llama");
        if (!Directory.Exists(path))
        {
            MolLlamaTestModels.WriteMolLlama(path, seed: 3);
        }

        return path;
    }

    private string Lines(string name, params object[] lines)
    {
        string path = Dir.Combine(name);
        File.WriteAllLines(path, lines.Select(l => JsonSerializer.Serialize(l)));
        return path;
    }

    private static JsonObject[] ReadLines(string path) => File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();

    private static object Molecule(string smiles) => new { modality = "molecule", value = smiles };

    [Fact]
    public async Task Judge_MoleculeRequests_BadSmilesFailsAlone()
    {
        string input = Lines("requests.jsonl",
            new { id = "pampa", task = "pointwise", template = "mol_pampa", instruction = Pampa, media = new[] { Molecule("CC(=O)Oc1ccccc1C(=O)O") },
                  candidates = new[] { "Small and neutral, so it crosses.\nFinal answer: High permeability" } },
            new { id = "two", task = "pairwise", template = "mol_pairwise", instruction = "Which is more polar, <mol> or <mol>?",
                  media = new[] { Molecule("CCO"), Molecule("c1ccccc1") }, candidates = new[] { "The first.", "The second." } },
            new { id = "bad", task = "pointwise", template = "mol_pampa", instruction = Pampa, media = new[] { Molecule("C1CC(") }, candidates = new[] { "x" } });
        string output = Dir.Combine("results.jsonl");

        var result = await CliRunner.RunAsync("judge", "--plugins-dir", Plugins.Path, "--model", Model(), "--input", input, "--output", output,
            "--max-new-tokens", "6", "--dtype", "float32");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("1 errors", result.Error, StringComparison.Ordinal);
        var lines = ReadLines(output);
        Assert.Equal(["pampa", "two", "bad"], lines.Select(l => (string)l["id"]!));
        Assert.All(lines[..2], l => Assert.NotEqual("error", (string)l["status"]!));
        Assert.Equal("error", (string)lines[2]["status"]!);
        string error = (string)lines[2]["error"]!;
        Assert.Contains("Request 'bad'", error, StringComparison.Ordinal);
        Assert.Contains("C1CC(", error, StringComparison.Ordinal);

        // The PAMPA prompt is the reference's token for token: its length is that of the reference text with the
        // molecule's 8 <mol> tokens and the candidate cut before "Final answer:".
        var tokenizer = HfTokenizer.Load(Model());
        string reference = ChatTemplate.FromTokenizer(tokenizer, MolLlamaConfig.ModelType).Render(
        [
            new ChatMessage("system", JudgeHost.Judging.DefaultTemplates.MolPampa.System),
            new ChatMessage("user", "\n\n[Question]\n\n" + Pampa.Replace("<mol>", string.Concat(Enumerable.Repeat("<mol>", 8)), StringComparison.Ordinal)
                + "\n\n[Assistant's Answer]\nSmall and neutral, so it crosses."),
        ]);
        Assert.Equal(tokenizer.Encode(reference).Count, (int)lines[0]["prompt_tokens"]!);
        // Both orders of the pair, each with both molecules spliced in.
        Assert.Equal(2, lines[1]["samples"]!.AsArray().Count);
    }

    [Fact]
    public async Task LogitsAndGenerate_PlaceEachSmilesAtItsMolToken()
    {
        string withMolecules = Dir.Combine("mol.safetensors"), textOnly = Dir.Combine("text.safetensors");

        var logits = await CliRunner.RunAsync("inspect", "logits", "--plugins-dir", Plugins.Path, "--model", Model(), "--prompt", "Compare <mol> with <mol>.", "--chat",
            "--smiles", "CCO", "--smiles", "c1ccccc1", "--out", withMolecules);
        var text = await CliRunner.RunAsync("inspect", "logits", "--model", Model(), "--prompt", "Compare  with .", "--chat", "--out", textOnly);
        var generate = await CliRunner.RunAsync("generate", "--plugins-dir", Plugins.Path, "--model", Model(), "--prompt", "Describe <mol>.", "--chat", "--smiles", "CCO",
            "--max-new-tokens", "3", "--dtype", "float32");

        Assert.True(logits.ExitCode == 0, logits.Error);
        Assert.True(text.ExitCode == 0, text.Error);
        Assert.True(generate.ExitCode == 0, generate.Error);
        using var a = SafeTensorsFile.Open(withMolecules);
        using var b = SafeTensorsFile.Open(textOnly);
        Assert.Equal(b["logits"].Shape[0] + 16, a["logits"].Shape[0]);                 // 8 query rows per molecule
        Assert.Equal(3, JsonDocument.Parse(generate.Output).RootElement.GetProperty("ids").GetArrayLength());
    }

    [Fact]
    public async Task BestOfNAndDpo_TakeMoleculePrompts_AndKeepGoingPastABadOne()
    {
        object Prompt(string id, string smiles) => new
        {
            id, instruction = Pampa, media = new[] { Molecule(smiles) }, cid = 702, template = "mol_pampa",
            candidates = new[] { "Lipophilic. Final answer: High permeability", "Charged. Final answer: Low-to-moderate permeability" },
        };
        string input = Lines("prompts.jsonl", Prompt("ok", "CCO"), Prompt("bad", "C1CC("));

        var best = await CliRunner.RunAsync("best-of-n", "--plugins-dir", Plugins.Path, "--model", Model(), "--input", input, "--output", Dir.Combine("best.jsonl"),
            "--max-new-tokens", "4", "--dtype", "float32", "--strip-final-answer");
        var dpo = await CliRunner.RunAsync("dpo", "--plugins-dir", Plugins.Path, "--model", Model(), "--input", input, "--output", Dir.Combine("dpo.jsonl"),
            "--judge", "pointwise", "--max-new-tokens", "4", "--dtype", "float32", "--mol-llama", Dir.Combine("mol.json"));

        Assert.Equal(2, best.ExitCode);
        Assert.Equal(2, dpo.ExitCode);
        foreach (string file in new[] { "best.jsonl", "dpo.jsonl" })
        {
            var records = ReadLines(Dir.Combine(file));
            Assert.Equal(["ok", "bad"], records.Select(r => (string)r["id"]!));
            Assert.NotEqual("error", (string)records[0]["status"]!);
            Assert.Equal("error", (string)records[1]["status"]!);
            Assert.Contains("C1CC(", (string)records[1]["error"]!, StringComparison.Ordinal);
        }

        var judged = ReadLines(Dir.Combine("best.jsonl"))[0]["candidates"]!.AsArray();
        Assert.Equal("Lipophilic.", (string)judged[0]!["judged_text"]!);   // truncate_at_final_answer
    }
}

using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Cli;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>
/// <c>tools import-judge</c> on a tiny Mol-LLaMA (tools make-tiny --family mol_llama layout) and a tiny Llama judge
/// with the same base vocabulary: every tensor copied, kept or reported, the result loads with the judge's weights
/// under Mol-LLaMA's LoRA, and what the reference would do silently is refused by name.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class MolLlamaJudgeImportTests : IDisposable
{
    private const string Llm = MolLlamaCheckpointKeys.LlmPrefix;
    private readonly TempDir _dir = new();

    public MolLlamaJudgeImportTests()
    {
        MolLlamaTestModels.WriteMolLlama(MolDir, seed: 5);
        MolLlamaTestModels.WriteJudge(JudgeDir, seed: 9);
    }

    private string MolDir => _dir.Combine("mol");

    private string JudgeDir => _dir.Combine("judge");

    private string OutDir => _dir.Combine("out");

    public void Dispose() => _dir.Dispose();

    private static Tensor Load(string dir, string name)
    {
        using var files = CheckpointFiles.Open(dir);
        return files.Load(name);
    }

    [Fact]
    public void Import_CopiesTheJudgesBaseWeights_KeepsLoraEncoderAndMolRows()
    {
        var report = MolLlamaJudgeImport.Run(MolDir, JudgeDir, OutDir);

        using var judgeFiles = CheckpointFiles.Open(JudgeDir);
        using var molFiles = CheckpointFiles.Open(MolDir);
        using var outFiles = CheckpointFiles.Open(OutDir);
        Assert.True(report.Ok);
        Assert.Equal(judgeFiles.Names.Count, report.Copied.Count);                    // every judge tensor placed
        Assert.Equal(judgeFiles.Names.Count, report.Replaced.Count);
        Assert.Equal(molFiles.Names.Count, outFiles.Names.Count);                      // every Mol-LLaMA tensor written once
        Assert.Equal(2 * 7 * 2, report.Kept.Count(k => k.Why == "LoRA factor"));
        Assert.Equal(molFiles.Names.Count - judgeFiles.Names.Count, report.Kept.Count(k => !k.Why.StartsWith("rows", StringComparison.Ordinal)));

        string q = "model.layers.1.self_attn.q_proj";
        Assert.True((outFiles.Load($"{Llm}{q}.base_layer.weight") == judgeFiles.Load(q + ".weight")).all().item<bool>());
        Assert.True((outFiles.Load($"{Llm}{q}.lora_B.default.weight") == molFiles.Load($"{Llm}{q}.lora_B.default.weight")).all().item<bool>());
        Assert.True((outFiles.Load("llm_proj.weight") == molFiles.Load("llm_proj.weight")).all().item<bool>());
        using var embed = outFiles.Load(Llm + "model.embed_tokens.weight");
        using var molEmbed = molFiles.Load(Llm + "model.embed_tokens.weight");
        Assert.Equal(new long[] { 263, 32 }, embed.shape);
        Assert.True((embed.narrow(0, 0, 261) == judgeFiles.Load("model.embed_tokens.weight")).all().item<bool>());
        Assert.True((embed.narrow(0, 261, 2) == molEmbed.narrow(0, 261, 2)).all().item<bool>());   // [PAD], <mol>
        Assert.Contains(report.Notes, n => n.Contains("LM-head rows of [PAD] and <mol> are Mol-LLaMA's", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(OutDir, "tokenizer.json")));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(OutDir, "import_report.json")));
        Assert.Equal(report.Copied.Count, doc.RootElement.GetProperty("counts").GetProperty("copied").GetInt32());
    }

    [Fact]
    public void Imported_Loads_WithTheJudgesWeightsUnderMolLlamasLora()
    {
        MolLlamaJudgeImport.Run(MolDir, JudgeDir, OutDir);

        using var model = TextModel.Load(OutDir, ScalarType.Float32, CPU);

        string q = "model.layers.0.mlp.down_proj";
        var weight = model.Model.named_parameters().Single(p => p.name == q + ".weight").parameter;
        using var expected = LoraMerge.Merge(Load(JudgeDir, q + ".weight"), Load(MolDir, $"{Llm}{q}.lora_A.default.weight"), Load(MolDir, $"{Llm}{q}.lora_B.default.weight"), 32.0 / 8);
        Assert.True((weight - expected).abs().max().item<float>() == 0);
        Assert.Equal(ChatTemplateFormat.MolLlama3, model.RequireTemplate().Format);
    }

    [Fact]
    public void AdapterOnlyMolLlama_GetsItsWholeDecoderFromTheJudge()
    {
        // The reference's from_pretrained can load its Llama from llm_model; such a checkpoint has no llm.* base weights.
        MolLlamaFixtureEditor.Copy(MolDir, MolDir, t =>
        {
            foreach (string name in t.Keys.Where(n => n.StartsWith(Llm, StringComparison.Ordinal) && !n.Contains(".lora_", StringComparison.Ordinal)).ToArray())
            {
                t.Remove(name);
            }
        });

        var report = MolLlamaJudgeImport.Run(MolDir, JudgeDir, OutDir);
        using var model = TextModel.Load(OutDir, ScalarType.Float32, CPU);

        Assert.True(report.Ok);
        Assert.Empty(report.Replaced);
        Assert.Equal(2, report.Notes.Count(n => n.Contains("the mean of the judge's rows", StringComparison.Ordinal)));
        string q = "model.layers.1.mlp.gate_proj";
        var weight = model.Model.named_parameters().Single(p => p.name == q + ".weight").parameter;
        using var expected = LoraMerge.Merge(Load(JudgeDir, q + ".weight"), Load(MolDir, $"{Llm}{q}.lora_A.default.weight"), Load(MolDir, $"{Llm}{q}.lora_B.default.weight"), 32.0 / 8);
        Assert.Equal(0f, (weight - expected).abs().max().item<float>());
    }

    [Fact]
    public void UnexpectedJudgeTensor_IsReported_AndNoWeightsAreWritten()
    {
        MolLlamaFixtureEditor.Copy(JudgeDir, JudgeDir + "2", t => t["model.layers.0.self_attn.q_proj.bias"] = zeros(32));

        var e = Assert.Throws<JudgeHostException>(() => MolLlamaJudgeImport.Run(MolDir, JudgeDir + "2", OutDir));

        Assert.Contains("model.layers.0.self_attn.q_proj.bias: the judge has it, Mol-LLaMA has no", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(OutDir, "model.safetensors")));
        Assert.Contains("q_proj.bias", File.ReadAllText(Path.Combine(OutDir, "import_report.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeMismatch_IsReported()
    {
        MolLlamaFixtureEditor.Copy(JudgeDir, JudgeDir + "2", t => t["model.layers.1.mlp.up_proj.weight"] = zeros(63, 32));

        var e = Assert.Throws<JudgeHostException>(() => MolLlamaJudgeImport.Run(MolDir, JudgeDir + "2", OutDir));

        Assert.Contains("model.layers.1.mlp.up_proj.weight is [63, 32] in the judge but llm.base_model.model.model.layers.1.mlp.up_proj.base_layer.weight is [64, 32]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingJudgeTensor_AndOtherArchitecture_AreReported()
    {
        MolLlamaFixtureEditor.Copy(JudgeDir, JudgeDir + "2", t => t.Remove("model.norm.weight"), c => c.Replace("\"rope_theta\": 500000", "\"rope_theta\": 10000", StringComparison.Ordinal));

        ThrowsWithReport(() => MolLlamaJudgeImport.Run(MolDir, JudgeDir + "2", OutDir), OutDir,
            "llm.base_model.model.model.norm.weight: a Mol-LLaMA base weight with no counterpart in the judge",
            "config rope_theta: Mol-LLaMA's Llama has 500000, the judge 10000");
    }

    [Fact]
    public async Task Cli_PrintsTheCounts_AndRefusesANonEmptyOutput()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int first = await CliApp.InvokeAsync(["tools", "import-judge", "--mol-llama", MolDir, "--judge", JudgeDir, "--out", OutDir], stdout, stderr);
        int second = await CliApp.InvokeAsync(["tools", "import-judge", "--mol-llama", MolDir, "--judge", JudgeDir, "--out", OutDir], new StringWriter(), stderr);

        Assert.Equal(CliApp.Ok, first);
        Assert.Contains("import-judge: 21 tensor(s) copied from the judge", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("0 problem(s) reported", stdout.ToString(), StringComparison.Ordinal);
        Assert.Equal(CliApp.UserError, second);
        Assert.Contains("exists and is not empty", stderr.ToString(), StringComparison.Ordinal);
    }

    private static void ThrowsWithReport(Action run, string outDir, params string[] problems)
    {
        Assert.Throws<JudgeHostException>(run);
        string report = File.ReadAllText(Path.Combine(outDir, "import_report.json"));
        foreach (string p in problems)
        {
            Assert.True(report.Contains(p, StringComparison.Ordinal), $"'{p}' not in {report}");
        }
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Judging;
using JudgeHost.Pipelines;

namespace JudgeHost.Tests.Pipelines;

/// <summary>Each export against the schema its consumer documents (TRL dataset formats, LLaMA-Factory data/README, Mol-LLaMA Instructionv2Dataset).</summary>
public sealed class DpoExportsTests
{
    private static readonly DpoPair Pair = new(1, 0, "good answer", "bad answer", "x#p0-1", 8, 3);

    private static JsonObject Export(DpoExportFormat format, PromptItem item)
    {
        Assert.Null(DpoExports.Check(format, item));
        // Round-trip through text, as a trainer reads the file.
        return JsonNode.Parse(DpoExports.Record(format, item, Pair).ToJsonString())!.AsObject();
    }

    [Fact]
    public void Trl_TextPrompt_IsAConversationalPreferenceRecord()
    {
        var record = Export(DpoExportFormat.Trl, new PromptItem { Id = "t", System = "Be brief.", Instruction = "What is 2+2?" });

        Assert.Equal(["prompt", "chosen", "rejected"], record.Select(p => p.Key));   // no images column without images
        var prompt = record["prompt"]!.AsArray();
        Assert.Equal(("system", "Be brief."), ((string)prompt[0]!["role"]!, (string)prompt[0]!["content"]!));
        Assert.Equal(("user", "What is 2+2?"), ((string)prompt[1]!["role"]!, (string)prompt[1]!["content"]!));
        Assert.Equal(("assistant", "good answer"), ((string)record["chosen"]![0]!["role"]!, (string)record["chosen"]![0]!["content"]!));
        Assert.Equal("bad answer", (string)record["rejected"]![0]!["content"]!);
    }

    [Fact]
    public void Trl_Images_OneImagePartPerImage_AndAnImagesColumn()
    {
        var item = new PromptItem { Id = "t", Instruction = "Which is a cat?", Media = [new MediaRef("image", "a.png"), new MediaRef("image", "b.png")] };

        var record = Export(DpoExportFormat.Trl, item);

        Assert.Equal(["a.png", "b.png"], record["images"]!.AsArray().Select(n => (string)n!));
        var parts = record["prompt"]![0]!["content"]!.AsArray();
        Assert.Equal(2, parts.Count(p => (string)p!["type"]! == "image"));
        Assert.Equal("Which is a cat?", (string)parts.Single(p => (string)p!["type"]! == "text")!["text"]!);
        Assert.Equal("good answer", (string)record["chosen"]![0]!["content"]![0]!["text"]!);
    }

    [Theory]
    [InlineData("video")]   // TRL has no video column
    [InlineData("audio")]   // nor audio
    public void Trl_NonImageMedia_IsRefusedUpFront(string modality)
    {
        var item = new PromptItem { Id = "t", Instruction = "Q", Media = [new MediaRef(modality, "x.bin")] };

        Assert.Contains("--llamafactory", DpoExports.Check(DpoExportFormat.Trl, item), StringComparison.Ordinal);
    }

    [Fact]
    public void LlamaFactory_PlaceholdersInMediaOrder_MatchTheMediaColumns()
    {
        var item = new PromptItem
        {
            Id = "l", System = "sys", Instruction = "Compare.",
            Media = [new MediaRef("image", "a.png"), new MediaRef("video", "v.mp4"), new MediaRef("image", "b.png"), new MediaRef("audio", "s.wav")],
        };

        var record = Export(DpoExportFormat.LlamaFactory, item);

        var turn = Assert.Single(record["conversations"]!.AsArray());
        Assert.Equal(("human", "<image><video><image><audio>Compare."), ((string)turn!["from"]!, (string)turn["value"]!));
        Assert.Equal(("gpt", "good answer"), ((string)record["chosen"]!["from"]!, (string)record["chosen"]!["value"]!));
        Assert.Equal(("gpt", "bad answer"), ((string)record["rejected"]!["from"]!, (string)record["rejected"]!["value"]!));
        Assert.Equal("sys", (string)record["system"]!);
        Assert.Equal(["a.png", "b.png"], record["images"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["v.mp4"], record["videos"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["s.wav"], record["audios"]!.AsArray().Select(n => (string)n!));
        foreach (string modality in new[] { "image", "video", "audio" })
        {
            int placeholders = System.Text.RegularExpressions.Regex.Count((string)turn["value"]!, $"<{modality}>");
            Assert.Equal(record[modality + "s"]!.AsArray().Count, placeholders);
        }
    }

    [Fact]
    public void LlamaFactory_DatasetInfo_RegistersARankingShareGptDataset()
    {
        var info = DpoExports.LlamaFactoryDatasetInfo("pairs", "pairs.jsonl")["pairs"]!;

        Assert.Equal(("pairs.jsonl", "sharegpt", true), ((string)info["file_name"]!, (string)info["formatting"]!, (bool)info["ranking"]!));
        Assert.Equal("conversations", (string)info["columns"]!["messages"]!);
        Assert.Equal("chosen", (string)info["columns"]!["chosen"]!);
    }

    [Fact]
    public void MolLlama_Record_LoadsAsTheTrainerReadsIt()
    {
        var item = new PromptItem
        {
            Id = "m", System = "You are a chemist.", Instruction = "Describe the molecule <mol>.",
            Cid = JsonDocument.Parse("2244").RootElement, Names = JsonDocument.Parse("""["aspirin"]""").RootElement,
            TaskType = "detailed_structural_descriptions", Smiles = "CC(=O)OC1=CC=CC=C1C(=O)O",
        };

        var record = Export(DpoExportFormat.MolLlama, item);

        Assert.Equal(["cid", "names", "task_type", "messages", "chosen", "rejected", "smiles"], record.Select(p => p.Key));
        Assert.Equal(2244, (int)record["cid"]!);
        Assert.Equal(["aspirin"], record["names"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("detailed_structural_descriptions", (string)record["task_type"]!);
        Assert.Equal("CC(=O)OC1=CC=CC=C1C(=O)O", (string)record["smiles"]!);

        // Instructionv2Dataset: messages + {"role":"assistant","content": chosen|rejected}; the collater splices the
        // molecule's 8 query tokens at the <mol> positions, so the chat must hold exactly 8, consecutively.
        var messages = record["messages"]!.AsArray();
        Assert.Equal(["system", "user"], messages.Select(m => (string)m!["role"]!));
        string user = (string)messages[1]!["content"]!;
        Assert.Equal("Describe the molecule " + string.Concat(Enumerable.Repeat("<mol>", 8)) + ".", user);
        Assert.IsType<string>((string)record["chosen"]!);
        Assert.Equal("good answer", (string)record["chosen"]!);
        Assert.Equal("bad answer", (string)record["rejected"]!);
    }

    [Fact]
    public void MolLlama_FromMessages_KeepsTheSingleTurnAndAnExpandedRun()
    {
        string eight = string.Concat(Enumerable.Repeat("<mol>", 8));
        var item = new PromptItem
        {
            Id = "m", Cid = JsonDocument.Parse("\"123\"").RootElement,
            Messages = [new ChatTurn("system", "S"), new ChatTurn("user", $"Molecule {eight}. Explain."), new ChatTurn("assistant", "old"), new ChatTurn("user", "more")],
            Media = [new MediaRef("molecule", Value: "CCO")],
        };

        var record = Export(DpoExportFormat.MolLlama, item);

        Assert.Equal("123", (string)record["cid"]!);
        Assert.Equal(2, record["messages"]!.AsArray().Count);
        Assert.Equal($"Molecule {eight}. Explain.", (string)record["messages"]![1]!["content"]!);
        Assert.Equal("CCO", (string)record["smiles"]!);                 // the SMILES comes from the molecule media item
        Assert.Empty(record["names"]!.AsArray());
    }

    [Theory]
    [InlineData(null, "Describe <mol>.", "has no \"cid\"")]                        // the trainer looks molecules up by cid
    [InlineData("7", "Describe it.", "no <mol> placeholder")]                      // nowhere to splice the molecule
    [InlineData("7", "Compare <mol> and <mol>.", "2 separate <mol> placeholders")] // one molecule per sample
    [InlineData("7", "Describe <mol><mol><mol>.", "a run of 3 <mol> tokens")]      // neither 1 nor 8
    public void MolLlama_ItemsTheTrainerCannotRead_AreRefusedUpFront(string? cid, string instruction, string expected)
    {
        var item = new PromptItem { Id = "m", Instruction = instruction, Cid = cid is null ? null : JsonDocument.Parse(cid).RootElement };

        Assert.Contains(expected, DpoExports.Check(DpoExportFormat.MolLlama, item), StringComparison.Ordinal);
    }
}

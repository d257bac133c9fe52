using System.CommandLine;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;

namespace JudgeHost.Cli;

/// <summary><c>tools import-judge</c>: Flex-Mol-LLaMA from a Mol-LLaMA checkpoint and a text-trained Llama-3.1 judge.</summary>
public static class ImportJudgeCommand
{
    public static Command Build()
    {
        var molLlama = new Option<string>("--mol-llama") { Description = "Mol-LLaMA checkpoint directory (config.json model_type mol_llama).", Required = true };
        var judge = new Option<string>("--judge") { Description = "Text-trained Llama-3.1 judge directory (e.g. Flex-Llama-8B), same vocabulary.", Required = true };
        var output = new Option<string>("--out") { Description = "New directory for the molecule judge.", Required = true };
        var command = new Command("import-judge", "Replace a Mol-LLaMA checkpoint's Llama base weights by a text judge's, keeping its LoRA, encoders and projector (strict: every tensor copied, kept or reported).");
        command.Options.Add(molLlama);
        command.Options.Add(judge);
        command.Options.Add(output);
        command.SetAction((parse, ct) =>
        {
            string outDir = parse.GetValue(output)!;
            if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            {
                throw new JudgeHostException($"--out '{outDir}' exists and is not empty; give a new directory.");
            }

            var report = MolLlamaJudgeImport.Run(parse.GetValue(molLlama)!, parse.GetValue(judge)!, outDir);
            var stdout = parse.InvocationConfiguration.Output;
            stdout.WriteLine($"import-judge: {report.Summary}; wrote {outDir} (every tensor in {Path.Combine(outDir, "import_report.json")})");
            foreach (string note in report.Notes)
            {
                stdout.WriteLine($"note: {note}");
            }

            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }
}

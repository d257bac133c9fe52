using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using JudgeHost.Pipelines;
using JudgeHost.Store;

namespace JudgeHost.Cli;

/// <summary>
/// <c>judgehost dpo</c>: preference pairs. Candidates per prompt (given, or sampled at 0.8 and 1.2 as the Flex-Mol
/// recipe), every pair judged in both orders, kept only when the orders agree; exports for TRL, LLaMA-Factory and
/// the Mol-LLaMA DPO trainer, and a statistics file saying what was kept and why the rest was dropped.
/// </summary>
public static class DpoCommand
{
    private static readonly Option<string> JudgeMode = new("--judge")
    {
        Description = "pairwise (both orders must agree) or pointwise (best vs worst score).",
        DefaultValueFactory = _ => "pairwise",
    };

    private static readonly Option<double> MinMargin = new("--min-margin") { Description = "Smallest score difference of a kept pair (0 = any strict preference).", DefaultValueFactory = _ => 0 };
    private static readonly Option<string?> Trl = new("--trl") { Description = "Write kept pairs for TRL's DPOTrainer (prompt/chosen/rejected[/images]) here." };
    private static readonly Option<string?> LlamaFactory = new("--llamafactory") { Description = "Write kept pairs as LLaMA-Factory sharegpt preference data here (+ PATH.dataset_info.json)." };
    private static readonly Option<string?> MolLlama = new("--mol-llama") { Description = "Write kept pairs in the Mol-LLaMA DPO trainer's format (cid, names, task_type, messages, chosen, rejected, smiles) here." };
    private static readonly Option<string?> Stats = new("--stats") { Description = "Statistics JSON (default: OUTPUT.stats.json)." };

    public static Command Build()
    {
        var command = new Command("dpo", "Build DPO preference pairs with the judge; judged records, exports and statistics (schemas: README).");
        var common = new PipelineCommand(command, defaultCandidates: 2, defaultTemperatures: "0.8,1.2");
        JudgeMode.AcceptOnlyFromAmong("pairwise", "pointwise");
        foreach (var o in new Option[] { JudgeMode, MinMargin, Trl, LlamaFactory, MolLlama, Stats })
        {
            command.Options.Add(o);
        }

        command.SetAction(async (parse, ct) =>
        {
            var judgeOptions = common.JudgeOptionsFrom(parse);
            var policy = common.PolicyOptionsFrom(parse);
            var options = new DpoOptions
            {
                Mode = parse.GetValue(JudgeMode) == "pointwise" ? DpoJudgeMode.Pointwise : DpoJudgeMode.Pairwise,
                MinMargin = parse.GetValue(MinMargin),
                StripFinalAnswer = parse.GetValue(common.StripFinalAnswer),
                FinalAnswerMarker = parse.GetValue(common.FinalAnswerMarker)!,
            };
            options.Validate();
            var exports = new List<(DpoExportFormat Format, string Path)>();
            foreach (var (option, format) in new[] { (Trl, DpoExportFormat.Trl), (LlamaFactory, DpoExportFormat.LlamaFactory), (MolLlama, DpoExportFormat.MolLlama) })
            {
                if (parse.GetValue(option) is { } path)
                {
                    exports.Add((format, path));
                }
            }

            var settings = new JsonObject
            {
                ["judge"] = parse.GetValue(JudgeMode), ["min_margin"] = options.MinMargin,
                ["strip_final_answer"] = options.StripFinalAnswer, ["final_answer_marker"] = options.StripFinalAnswer ? options.FinalAnswerMarker : null,
                ["exports"] = new JsonArray([.. exports.Select(e => (JsonNode)e.Format.ToString())]),
            };
            var configuration = common.Configuration(parse, "dpo", judgeOptions, policy, settings);
            if (exports.FirstOrDefault(e => e.Format == DpoExportFormat.LlamaFactory) is { Path: { } lf })
            {
                var info = DpoExports.LlamaFactoryDatasetInfo(Path.GetFileNameWithoutExtension(lf), Path.GetFileName(lf));
                await File.WriteAllTextAsync(lf + ".dataset_info.json", info.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", ct);
            }

            string output = parse.GetValue(common.Output)!;
            string statsPath = parse.GetValue(Stats) ?? output + ".stats.json";
            var projections = exports.Select(e => (e.Path, (Func<string, IEnumerable<string>>)(record => Project(record, e.Format)))).ToList();
            return await common.RunAsync(parse, "dpo", configuration, judgeOptions, policy, projections,
                (judge, sampler) =>
                {
                    var builder = new DpoPairBuilder(judge, options);
                    return (item, token) =>
                    {
                        // Checked before sampling or judging: a prompt an export cannot carry fails at once, with the reason.
                        if (exports.Select(e => DpoExports.Check(e.Format, item)).FirstOrDefault(m => m is not null) is { } problem)
                        {
                            throw new JudgeHostException(char.ToUpperInvariant(problem[0]) + problem[1..]);
                        }

                        var record = builder.Build(item, PipelineCommand.CandidatesFor(item, sampler, token), token);
                        return new ItemOutcome(record.Id, record.Status, JsonSerializer.Serialize(record, JudgeJson.Options), record.ParseFailures, record.Status == "error");
                    };
                },
                (id, error) => new ItemOutcome(id, "error", JsonSerializer.Serialize(new DpoRecord { Id = id, Status = "error", Error = error }, JudgeJson.Options), 0, true),
                async (store, log) =>
                {
                    var stats = new DpoStats();
                    foreach (var (_, _, record) in store.Records())
                    {
                        stats.Add(JsonSerializer.Deserialize<DpoRecord>(record, JudgeJson.Options)!);
                    }

                    await File.WriteAllTextAsync(statsPath, JsonSerializer.Serialize(stats, new JsonSerializerOptions(JudgeJson.Options) { WriteIndented = true }) + "\n", ct);
                    await log.WriteLineAsync(stats.Summary() + string.Create(CultureInfo.InvariantCulture, $"; statistics {statsPath}"));
                },
                ct);
        });
        return command;
    }

    private static IEnumerable<string> Project(string recordJson, DpoExportFormat format)
    {
        var record = JsonSerializer.Deserialize<DpoRecord>(recordJson, JudgeJson.Options)!;
        if (record.Status != "ok" || record.Prompt is null)
        {
            yield break;
        }

        foreach (var pair in record.Pairs)
        {
            yield return DpoExports.Record(format, record.Prompt, pair).ToJsonString(JudgeJson.Options);
        }
    }
}

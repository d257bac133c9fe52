using System.CommandLine;
using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Hosting;
using JudgeHost.Judging;
using JudgeHost.Store;
using Microsoft.Extensions.DependencyInjection;

namespace JudgeHost.Cli;

/// <summary><c>judgehost judge</c>: JSONL requests in, JSONL judgments out.</summary>
public static class JudgeCommand
{
    private static readonly Option<string> Model = new("--model") { Description = "Hugging Face model directory of the judge.", Required = true };
    private static readonly Option<string> Input = new("--input", "-i") { Description = "Requests, one JSON object per line (schema: README).", Required = true };
    private static readonly Option<string?> Output = new("--output", "-o") { Description = "Results JSONL (default: stdout)." };
    private static readonly Option<int> Samples = new("--samples", "-k") { Description = "Samples per prompt for majority voting.", DefaultValueFactory = _ => 1 };
    private static readonly Option<float> Temperature = new("--temperature") { Description = "0 = greedy.", DefaultValueFactory = _ => 0f };
    private static readonly Option<float> TopP = new("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => 1f };
    private static readonly Option<long> Seed = new("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
    private static readonly Option<int> MaxNewTokens = new("--max-new-tokens") { Description = "Token limit per judgment.", DefaultValueFactory = _ => 1024 };
    private static readonly Option<bool> SingleOrder = new("--single-order") { Description = "Judge pairwise requests in the given order only (default: both orders)." };
    private static readonly Option<DisagreementPolicy> Policy = new("--on-disagreement") { Description = "tie, drop or keep_first when the two orders disagree.", DefaultValueFactory = _ => DisagreementPolicy.Tie };
    private static readonly Option<bool> PrefillThink = new("--prefill-think") { Description = "Start the answer with \"<think>\\n\"." };
    private static readonly Option<int> MinThinking = new("--min-thinking-tokens") { Description = "Budget forcing: append \"Wait\" when reasoning closes earlier." };
    private static readonly Option<int> MaxThinking = new("--max-thinking-tokens") { Description = "Budget forcing: cut reasoning here and force the answer." };
    private static readonly Option<string?> Templates = new("--template-dir") { Description = "Folder with pointwise/pairwise/ranking/binary.json templates." };
    private static readonly Option<string?> DType = new("--dtype") { Description = "float32 or bfloat16 (default bfloat16)." };
    private static readonly Option<int> BatchSize = new("--batch-size") { Description = "Requests judged together.", DefaultValueFactory = _ => 8 };

    public static Command Build()
    {
        var judge = new Command("judge", "Judge JSONL requests (pointwise, pairwise, ranking, binary) and write one JSON result per line.");
        foreach (var o in new Option[] { Model, Input, Output, Samples, Temperature, TopP, Seed, MaxNewTokens, SingleOrder, Policy, PrefillThink, MinThinking, MaxThinking, Templates, DType, BatchSize })
        {
            judge.Options.Add(o);
        }

        judge.SetAction(async (parse, ct) =>
        {
            var options = new JudgeOptions
            {
                Samples = parse.GetValue(Samples), Temperature = parse.GetValue(Temperature), TopP = parse.GetValue(TopP), Seed = parse.GetValue(Seed),
                MaxNewTokens = parse.GetValue(MaxNewTokens), BothOrders = !parse.GetValue(SingleOrder), Disagreement = parse.GetValue(Policy),
                PrefillThink = parse.GetValue(PrefillThink), MinThinkingTokens = parse.GetValue(MinThinking), MaxThinkingTokens = parse.GetValue(MaxThinking),
                TemplateDirectory = parse.GetValue(Templates),
            };
            options.Validate();
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), parse.InvocationConfiguration.Error);
            using var model = ModelCommands.LoadTextModel(parse, app, parse.GetValue(Model)!, parse.GetValue(DType) ?? "bfloat16");
            var resolver = new JudgeHost.Plugins.EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog);
            using var media = new MediaEncoders(resolver, parse.GetValue(Model)!, model.Model, app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>());
            var backend = new TextJudgeBackend(model.Generator, model.RequireTokenizer(), model.RequireTemplate(), model.EosIds, media);
            var service = new JudgeService(backend, options);

            string? outPath = parse.GetValue(Output);
            await using var file = outPath is null ? null : new StreamWriter(outPath, append: false, new System.Text.UTF8Encoding(false));
            var writer = file ?? parse.InvocationConfiguration.Output;
            var counts = new Dictionary<string, int> { ["ok"] = 0, ["unparsed"] = 0, ["error"] = 0 };
            var batch = new List<RequestLine>();
            async Task FlushAsync()
            {
                var valid = batch.Where(l => l.Request is not null).Select(l => l.Request!).ToList();
                var judged = valid.Count == 0 ? [] : service.Judge(valid, ct).ToDictionary(r => r.Id);
                foreach (var line in batch)
                {
                    var result = line.Request is null ? JudgeResult.Failed(line.Id, null, line.Error!) : judged[line.Request.Id];
                    counts[result.Status]++;
                    await writer.WriteLineAsync(JsonSerializer.Serialize(result, JudgeJson.Options));
                }

                await writer.FlushAsync(ct);
                batch.Clear();
            }

            await foreach (var line in JsonlReader.ReadRequestsAsync(parse.GetValue(Input)!, ct))
            {
                batch.Add(line);
                if (batch.Count >= Math.Max(1, parse.GetValue(BatchSize)))
                {
                    await FlushAsync();
                }
            }

            await FlushAsync();
            await parse.InvocationConfiguration.Error.WriteLineAsync(
                $"judged {counts.Values.Sum()} requests: {counts["ok"]} ok, {counts["unparsed"]} unparsed, {counts["error"]} errors");
            if (counts["error"] > 0)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: {counts["error"]} request(s) could not be judged; see the records with \"status\":\"error\".");
                return CliApp.UserError;
            }

            return CliApp.Ok;
        });
        return judge;
    }
}

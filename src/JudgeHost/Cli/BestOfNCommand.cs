using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Pipelines;
using JudgeHost.Store;

namespace JudgeHost.Cli;

/// <summary><c>judgehost best-of-n</c>: for each prompt, the best of its N candidates (given, or sampled from a policy).</summary>
public static class BestOfNCommand
{
    private static readonly Option<string> Method = new("--method")
    {
        Description = "pointwise (highest score), knockout or round-robin (pairwise, both orders), listwise (one ranking).",
        DefaultValueFactory = _ => "pointwise",
    };

    public static Command Build()
    {
        var command = new Command("best-of-n", "Pick the best of N candidates per prompt with the judge; one JSON record per prompt (schema: README).");
        var common = new PipelineCommand(command, defaultCandidates: 4, defaultTemperatures: "0.8");
        Method.AcceptOnlyFromAmong("pointwise", "knockout", "round-robin", "listwise");
        command.Options.Add(Method);
        command.SetAction(async (parse, ct) =>
        {
            var judgeOptions = common.JudgeOptionsFrom(parse);
            var policy = common.PolicyOptionsFrom(parse);
            var options = new BestOfNOptions
            {
                Method = parse.GetValue(Method) switch
                {
                    "knockout" => SelectionMethod.Knockout,
                    "round-robin" => SelectionMethod.RoundRobin,
                    "listwise" => SelectionMethod.Listwise,
                    _ => SelectionMethod.Pointwise,
                },
                Seed = parse.GetValue(common.Seed),
                StripFinalAnswer = parse.GetValue(common.StripFinalAnswer),
                FinalAnswerMarker = parse.GetValue(common.FinalAnswerMarker)!,
            };
            var settings = new JsonObject
            {
                ["method"] = parse.GetValue(Method), ["seed"] = options.Seed,
                ["strip_final_answer"] = options.StripFinalAnswer, ["final_answer_marker"] = options.StripFinalAnswer ? options.FinalAnswerMarker : null,
            };
            var configuration = common.Configuration(parse, "best-of-n", judgeOptions, policy, settings);
            return await common.RunAsync(parse, "best-of-n", configuration, judgeOptions, policy, [],
                (judge, sampler) =>
                {
                    var selector = new BestOfNSelector(judge, options);
                    return (item, token) =>
                    {
                        var record = selector.Select(item, PipelineCommand.CandidatesFor(item, sampler, token), token);
                        return new ItemOutcome(record.Id, record.Status, JsonSerializer.Serialize(record, JudgeJson.Options), record.ParseFailures, record.Status == "error");
                    };
                },
                (id, error) => new ItemOutcome(id, "error", JsonSerializer.Serialize(new BestOfNRecord { Id = id, Status = "error", Error = error }, JudgeJson.Options), 0, true),
                (_, _) => Task.CompletedTask,
                ct);
        });
        return command;
    }
}

using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using JudgeHost.Abstractions;
using JudgeHost.Judging;
using JudgeHost.Pipelines;
using JudgeHost.Store;

namespace JudgeHost.Cli;

/// <summary><c>judgehost eval</c> (metrics over judged JSONL) and <c>judgehost reward</c> (RL rewards for judge responses).</summary>
public static class EvalCommand
{
    private static readonly Option<string> Input = new("--input", "-i") { Description = "JSONL file.", Required = true };
    private static readonly Option<string?> Report = new("--report") { Description = "Markdown report path; PNG plots are written beside it." };
    private static readonly Option<double> Alpha = new("--alpha") { Description = "Format weight α in R = (1-α)·R_acc + α·R_format.", DefaultValueFactory = _ => RewardFunction.DefaultAlpha };

    public static Command BuildEval()
    {
        var eval = new Command("eval", "Metrics per task over judged JSONL (results of `judge` with labels): table on stdout, optional report with plots. Over `best-of-n` output whose labels list the correct candidates: random-pick, first-candidate, judge's-choice and oracle accuracy.");
        eval.Options.Add(Input);
        eval.Options.Add(Report);
        eval.SetAction(async (parse, ct) =>
        {
            string path = parse.GetValue(Input)!;
            var lines = new List<(int Line, string Text)>();
            await foreach (var entry in JsonlReader.ReadLinesAsync(path, ct))
            {
                lines.Add(entry);
            }

            if (lines.Any(l => IsBestOfN(l.Text)))
            {
                var records = lines.Select(l => Parse<BestOfNRecord>(path, l.Line, l.Text, "best-of-n record")).ToList();
                var bon = BestOfNEvaluation.Evaluate(records);
                if (bon.Prompts == 0)
                {
                    throw new JudgeHostException($"'{path}' has no best-of-n records whose \"label\" lists the correct candidates (e.g. [0, 2]).");
                }

                await parse.InvocationConfiguration.Output.WriteAsync(bon.Table());
                return CliApp.Ok;
            }

            var results = lines.Select(l => Parse<JudgeResult>(path, l.Line, l.Text, "judge result")).ToList();
            var evaluation = Evaluation.Evaluate(results);
            if (evaluation.Count == 0)
            {
                throw new JudgeHostException($"'{path}' has no results with a \"label\"; eval needs labelled requests.");
            }

            await parse.InvocationConfiguration.Output.WriteAsync(EvalReport.Table(evaluation));
            if (parse.GetValue(Report) is { } report)
            {
                var images = EvalReport.Write(report, evaluation, path);
                await parse.InvocationConfiguration.Output.WriteLineAsync($"report: {report} ({images.Count} plots)");
            }

            return CliApp.Ok;
        });
        return eval;
    }

    public static Command BuildReward()
    {
        var reward = new Command("reward", "R = (1-α)·R_acc + α·R_format for judge responses: lines {id, task, response, label[, scale][, candidates]} → {id, overall, format, accuracy}.");
        reward.Options.Add(Input);
        reward.Options.Add(Alpha);
        reward.SetAction(async (parse, ct) =>
        {
            double alpha = parse.GetValue(Alpha);
            if (alpha is < 0 or > 1)
            {
                throw new JudgeHostException($"--alpha {alpha} must be between 0 and 1.");
            }

            int failures = 0;
            await foreach (var (line, text) in JsonlReader.ReadLinesAsync(parse.GetValue(Input)!, ct))
            {
                string json;
                try
                {
                    var item = JsonSerializer.Deserialize<RewardItem>(text, JudgeJson.Options) ?? throw new JsonException("null line");
                    var r = RewardFunction.Compute(item.Response, item.Label, FormatOf(item), alpha);
                    json = JsonSerializer.Serialize(new RewardOutput(item.Id, r.Overall, r.Format, r.Accuracy, r.Reason, null), JudgeJson.Options);
                }
                catch (Exception e) when (e is JsonException or JudgeHostException)
                {
                    failures++;
                    json = JsonSerializer.Serialize(new RewardOutput($"line:{line}", null, null, null, null, $"line {line}: {e.Message}"), JudgeJson.Options);
                }

                await parse.InvocationConfiguration.Output.WriteLineAsync(json);
            }

            return failures > 0 ? CliApp.UserError : CliApp.Ok;
        });
        return reward;
    }

    // A best-of-n output line carries the selection ("method", "choice"); a judge result never does.
    private static bool IsBestOfN(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == JsonValueKind.Object && (doc.RootElement.TryGetProperty("choice", out _) || doc.RootElement.TryGetProperty("method", out _));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static T Parse<T>(string path, int line, string text, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, JudgeJson.Options) ?? throw new JsonException("null line");
        }
        catch (JsonException e)
        {
            throw new JudgeHostException($"'{path}' line {line} is not a {what} ({e.Message}). Pass the output of `judgehost judge` or `judgehost best-of-n`.", e);
        }
    }

    private static AnswerFormat FormatOf(RewardItem item)
    {
        var scale = item.Scale ?? new ScoreScale(1, item.Task == JudgeTask.Pointwise ? 5 : 10);
        return item.Task switch
        {
            JudgeTask.Pointwise => AnswerFormat.Pointwise(scale.Min, scale.Max),
            JudgeTask.Pairwise => AnswerFormat.PairScores(scale.Min, scale.Max),
            JudgeTask.Ranking => AnswerFormat.RankingScores(item.Candidates ?? throw new JudgeHostException("a ranking item needs \"candidates\" (how many were ranked)."), scale.Min, scale.Max),
            _ => AnswerFormat.YesNo,
        };
    }

    private sealed record RewardItem(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("task")] JudgeTask Task,
        [property: JsonPropertyName("response")] string Response,
        [property: JsonPropertyName("label")] string Label,
        [property: JsonPropertyName("scale")] ScoreScale? Scale = null,
        [property: JsonPropertyName("candidates")] int? Candidates = null);

    private sealed record RewardOutput(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("overall")] double? Overall,
        [property: JsonPropertyName("format")] double? Format,
        [property: JsonPropertyName("accuracy")] double? Accuracy,
        [property: JsonPropertyName("reason")] string? Reason,
        [property: JsonPropertyName("error")] string? Error);
}

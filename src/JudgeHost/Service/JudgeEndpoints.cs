using System.Text.Json;
using JudgeHost.Judging;
using JudgeHost.Pipelines;
using JudgeHost.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace JudgeHost.Service;

/// <summary>
/// The judging endpoints: one request, a batch, RL rewards for a group of candidates, and best-of-N. Each runs the
/// existing pipeline (<see cref="JudgeService"/>, <see cref="BestOfNSelector"/>, <see cref="RewardFunction"/>) over the
/// service's judge, whose backend is the <see cref="JudgeScheduler"/>: concurrent requests share backbone batches.
/// </summary>
internal sealed class JudgeEndpoints(JudgeService judge, ServeOptions options, MediaResolver media, RequestContext context, ServiceMetrics metrics)
{
    public void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("judge");
        v1.MapPost("/judge", Handler(http => context.RunAsync(http, "judge", (json, files, ct) => JudgeOneAsync(http, json, files, ct))))
            .WithName("Judge").WithSummary("Judge one request (pointwise, pairwise, ranking or binary; the `judge` JSONL schema).")
            .Accepts<JudgeRequest>("application/json", "multipart/form-data")
            .Produces<JudgeResult>(200).ProducesProblem(400).ProducesProblem(403).ProducesProblem(413).ProducesProblem(422).ProducesProblem(429).ProducesProblem(504);
        v1.MapPost("/judge/batch", Handler(http => context.RunAsync(http, "judge_batch", (json, files, ct) => JudgeBatchAsync(json, files, ct))))
            .WithName("JudgeBatch").WithSummary("Judge several requests together; one result per request, a bad item fails alone.")
            .Accepts<BatchRequest>("application/json", "multipart/form-data")
            .Produces<BatchResponse>(200).ProducesProblem(400).ProducesProblem(413).ProducesProblem(429).ProducesProblem(504);
        v1.MapPost("/rewards", Handler(http => context.RunAsync(http, "rewards", (json, files, ct) => RewardsAsync(http, json, files, ct))))
            .WithName("Rewards").WithSummary("Rewards for a group of candidates (RL rollouts): judge scores, or the MT-RL-Judge rule reward when a label is given.")
            .Accepts<RewardRequest>("application/json", "multipart/form-data")
            .Produces<RewardResponse>(200).ProducesProblem(400).ProducesProblem(403).ProducesProblem(422).ProducesProblem(429).ProducesProblem(504);
        v1.MapPost("/best-of-n", Handler(http => context.RunAsync(http, "best_of_n", (json, files, ct) => BestOfNAsync(http, json, files, ct))))
            .WithName("BestOfN").WithSummary("Pick the best of the given candidates (pointwise, knockout, round_robin or listwise).")
            .Accepts<PromptItem>("application/json", "multipart/form-data")
            .Produces<BestOfNRecord>(200).ProducesProblem(400).ProducesProblem(403).ProducesProblem(422).ProducesProblem(429).ProducesProblem(504);
    }

    // A route handler, not a RequestDelegate: its IResult is written to the response.
    private static Delegate Handler(Func<HttpContext, Task<IResult>> handler) => handler;

    private async Task<IResult> JudgeOneAsync(HttpContext http, JsonElement json, UploadSet? files, CancellationToken ct)
    {
        var request = Checked(RequestContext.Parse<JudgeRequest>(json, "The judge request"));
        request = media.Resolve(request, files);
        var result = (await RequestContext.OnOwnThread(() => judge.Judge([request], ct), ct))[0];
        metrics.Judgment(result.Status);
        return result.Status == "error"
            ? RequestContext.Problem(http, 422, result.Error ?? "The request could not be judged.", null, new Dictionary<string, object?> { ["result"] = result })
            : Results.Json(result, JudgeJson.Options);
    }

    private async Task<IResult> JudgeBatchAsync(JsonElement json, UploadSet? files, CancellationToken ct)
    {
        var items = json.ValueKind == JsonValueKind.Array ? [.. json.EnumerateArray()] : RequestContext.Parse<BatchRequest>(json, "The batch").Requests;
        if (items.Count == 0 || items.Count > options.MaxItems)
        {
            throw new ServiceException(items.Count == 0 ? 400 : 413, $"A batch carries 1 to {options.MaxItems} requests; this one has {items.Count}. Split it into several calls.");
        }

        var results = new JudgeResult?[items.Count];
        var valid = new List<(int Index, JudgeRequest Request)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            string id = items[i].ValueKind == JsonValueKind.Object && items[i].TryGetProperty("id", out var idEl) && idEl.ValueKind == JsonValueKind.String ? idEl.GetString()! : $"requests[{i}]";
            try
            {
                var request = Checked(RequestContext.Parse<JudgeRequest>(items[i], $"requests[{i}]"));
                if (!seen.Add(request.Id))
                {
                    throw new ServiceException(400, $"requests[{i}]: id '{request.Id}' was already used by an earlier request of the batch; ids must be unique.");
                }

                valid.Add((i, media.Resolve(request, files)));
            }
            catch (ServiceException e)
            {
                results[i] = JudgeResult.Failed(id, null, e.Message);
            }
        }

        if (valid.Count > 0)
        {
            var judged = await RequestContext.OnOwnThread(() => judge.Judge([.. valid.Select(v => v.Request)], ct), ct);
            for (int k = 0; k < valid.Count; k++)
            {
                results[valid[k].Index] = judged[k];
            }
        }

        foreach (var r in results)
        {
            metrics.Judgment(r!.Status);
        }

        return Results.Json(new BatchResponse(results!), JudgeJson.Options);
    }

    private async Task<IResult> RewardsAsync(HttpContext http, JsonElement json, UploadSet? files, CancellationToken ct)
    {
        var request = RequestContext.Parse<RewardRequest>(json, "The reward request");
        if (request.Candidates.Count == 0 || request.Candidates.Count > options.MaxCandidates)
        {
            throw new ServiceException(400, $"Reward request '{request.Id}' has {request.Candidates.Count} candidates; give 1 to {options.MaxCandidates}.");
        }

        if (request.Label is { } label)
        {
            return Results.Json(VerdictRewards(request, label), JudgeJson.Options);
        }

        if (request.Task is { } task && task != JudgeTask.Pointwise)
        {
            throw new ServiceException(400, $"Reward request '{request.Id}': without a label the judge scores each candidate pointwise; task '{JudgeService.TaskName(task)}' applies only with a label (the reference verdict).");
        }

        var resolved = request.Media.Select(m => media.Resolve(m, request.Id, files)).ToArray();
        var requests = request.Candidates.Select((c, i) => new JudgeRequest
        {
            Id = $"{request.Id}#c{i}", Task = JudgeTask.Pointwise, Instruction = request.Instruction ?? "", Criteria = request.Criteria, Media = resolved,
            Candidates = [c], Reference = request.Reference, Scale = request.Scale, Template = request.Template,
        }).ToArray();
        var judged = await RequestContext.OnOwnThread(() => judge.Judge(requests, ct), ct);
        var scale = request.Scale ?? new ScoreScale(1, 5);
        var rewards = judged.Select((r, i) =>
        {
            metrics.Judgment(r.Status);
            return r.Status == "ok" && r.Verdict?.Score is { } score
                ? new CandidateReward(i, (score - scale.Min) / (scale.Max - scale.Min), "ok", Score: score)
                : new CandidateReward(i, null, r.Status, Reason: r.Error ?? r.Verdict?.Reason);
        }).ToArray();
        if (judged.All(r => r.Status == "error"))
        {
            return RequestContext.Problem(http, 422, judged[0].Error ?? "The candidates could not be judged.", null, new Dictionary<string, object?> { ["judgments"] = judged });
        }

        return Results.Json(new RewardResponse(request.Id, "judge", rewards, judged.Count(r => r.Status == "unparsed"), judged), JudgeJson.Options);
    }

    // MT-RL-Judge: each candidate is a judge response; R = (1 − α)·R_acc + α·R_format against the reference verdict.
    private static RewardResponse VerdictRewards(RewardRequest request, string label)
    {
        double alpha = request.Alpha ?? RewardFunction.DefaultAlpha;
        if (alpha is < 0 or > 1)
        {
            throw new ServiceException(400, $"Reward request '{request.Id}': alpha {alpha} must be between 0 and 1.");
        }

        var task = request.Task ?? JudgeTask.Pairwise;
        var scale = request.Scale ?? new ScoreScale(1, task == JudgeTask.Pointwise ? 5 : 10);
        var format = task switch
        {
            JudgeTask.Pointwise => AnswerFormat.Pointwise(scale.Min, scale.Max),
            JudgeTask.Pairwise => AnswerFormat.PairScores(scale.Min, scale.Max),
            JudgeTask.Ranking => AnswerFormat.RankingScores(request.Ranked is >= 2 and <= 26 ? request.Ranked.Value
                : throw new ServiceException(400, $"Reward request '{request.Id}': a ranking label needs \"ranked\" (2 to 26 candidates were ranked)."), scale.Min, scale.Max),
            _ => AnswerFormat.YesNo,
        };
        var rewards = request.Candidates.Select((c, i) =>
        {
            var r = RewardFunction.Compute(c, label, format, alpha);
            string status = r.Accuracy == 1 ? "ok" : VerdictParser.Parse(c, format).IsParsed ? "wrong" : "unparsed";
            return new CandidateReward(i, r.Overall, status, Format: r.Format, Accuracy: r.Accuracy, Reason: r.Reason);
        }).ToArray();
        return new RewardResponse(request.Id, "verdict", rewards, rewards.Count(r => r.Status == "unparsed"));
    }

    private async Task<IResult> BestOfNAsync(HttpContext http, JsonElement json, UploadSet? files, CancellationToken ct)
    {
        var item = RequestContext.Parse<PromptItem>(json, "The best-of-n prompt");
        var settings = RequestContext.Parse<BestOfNSettings>(json, "The best-of-n settings");
        if (item.Candidates is not { Count: > 0 } candidates || candidates.Count > options.MaxCandidates)
        {
            throw new ServiceException(400, $"Prompt '{item.Id}' needs 1 to {options.MaxCandidates} \"candidates\"; the server does not sample them (use the best-of-n verb with --policy for that).");
        }

        item = item with { Media = [.. item.Media.Select(m => media.Resolve(m, item.Id, files))] };
        var selector = new BestOfNSelector(judge, new BestOfNOptions
        {
            Method = settings.Method, Seed = settings.Seed, StripFinalAnswer = settings.StripFinalAnswer,
            FinalAnswerMarker = settings.FinalAnswerMarker ?? CandidateView.DefaultMarker,
        });
        var record = await RequestContext.OnOwnThread(() => selector.Select(item, Candidate.FromInput(candidates), ct), ct);
        foreach (var j in record.Judgments)
        {
            metrics.Judgment(j.Status);
        }

        return record.Status == "error"
            ? RequestContext.Problem(http, 422, record.Error ?? "The prompt could not be judged.", null, new Dictionary<string, object?> { ["record"] = record })
            : Results.Json(record, JudgeJson.Options);
    }

    private JudgeRequest Checked(JudgeRequest request) =>
        request.Candidates.Count <= options.MaxCandidates
            ? request
            : throw new ServiceException(413, $"Request '{request.Id}' has {request.Candidates.Count} candidates; this server takes at most {options.MaxCandidates}.");
}

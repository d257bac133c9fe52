using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using JudgeHost.Hosting;
using JudgeHost.Judging;
using JudgeHost.Pipelines;
using JudgeHost.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JudgeHost.Cli;

/// <summary>
/// What <c>best-of-n</c> and <c>dpo</c> share: the options (judge, policy sampling, job store), loading the judge and
/// the policy, the configuration a job is keyed by, and running the job with progress.
/// </summary>
internal sealed class PipelineCommand
{
    public readonly Option<string> Model = new("--model") { Description = "Hugging Face model directory of the judge.", Required = true };
    public readonly Option<string> Input = new("--input", "-i") { Description = "Prompts, one JSON object per line (schema: README).", Required = true };
    public readonly Option<string> Output = new("--output", "-o") { Description = "Output JSONL, one record per prompt (rebuilt from the job store on --resume).", Required = true };
    public readonly Option<string?> Job = new("--job") { Description = "SQLite job store (default: OUTPUT.job.db)." };
    public readonly Option<bool> Resume = new("--resume") { Description = "Continue the job in the store: finished prompts are kept, the rest run." };
    public readonly Option<bool> ForceNew = new("--force-new") { Description = "Discard the job in the store and start over." };
    public readonly Option<string?> Policy = new("--policy") { Description = "Policy model directory: sample candidates for prompts that have none." };
    public readonly Option<int> NumCandidates;
    public readonly Option<string> Temperatures;
    public readonly Option<float> PolicyTopP = new("--policy-top-p") { Description = "Nucleus mass for policy sampling.", DefaultValueFactory = _ => 1f };
    public readonly Option<int> PolicyMaxNewTokens = new("--policy-max-new-tokens") { Description = "Token limit per sampled candidate.", DefaultValueFactory = _ => 512 };
    public readonly Option<long> Seed = new("--seed") { Description = "Seed of judge and policy sampling and of the tie-break rule.", DefaultValueFactory = _ => 0 };
    public readonly Option<bool> StripFinalAnswer = new("--strip-final-answer") { Description = "Judge each candidate with everything from the final-answer marker on cut off (PAMPA recipe)." };
    public readonly Option<string> FinalAnswerMarker = new("--final-answer-marker") { Description = "Marker for --strip-final-answer (case-insensitive).", DefaultValueFactory = _ => CandidateView.DefaultMarker };
    public readonly Option<int> Samples = new("--samples", "-k") { Description = "Judge samples per prompt for majority voting.", DefaultValueFactory = _ => 1 };
    public readonly Option<float> Temperature = new("--temperature") { Description = "Judge temperature; 0 = greedy.", DefaultValueFactory = _ => 0f };
    public readonly Option<float> TopP = new("--top-p") { Description = "Judge nucleus sampling mass.", DefaultValueFactory = _ => 1f };
    public readonly Option<int> MaxNewTokens = new("--max-new-tokens") { Description = "Token limit per judgment.", DefaultValueFactory = _ => 1024 };
    public readonly Option<bool> PrefillThink = new("--prefill-think") { Description = "Start the judge's answer with \"<think>\\n\"." };
    public readonly Option<int> MinThinking = new("--min-thinking-tokens") { Description = "Budget forcing: append \"Wait\" when reasoning closes earlier." };
    public readonly Option<int> MaxThinking = new("--max-thinking-tokens") { Description = "Budget forcing: cut reasoning here and force the answer." };
    public readonly Option<string?> Templates = new("--template-dir") { Description = "Folder with pointwise/pairwise/ranking.json judge templates." };
    public readonly Option<string?> DType = new("--dtype") { Description = "float32 or bfloat16 (default bfloat16)." };

    /// <summary>The options of one verb, added to <paramref name="command"/>; the sampling defaults differ per verb.</summary>
    public PipelineCommand(Command command, int defaultCandidates, string defaultTemperatures)
    {
        NumCandidates = new("--num-candidates", "-n") { Description = "Candidates sampled per prompt from --policy.", DefaultValueFactory = _ => defaultCandidates };
        Temperatures = new("--temperatures") { Description = "Comma-separated sampling temperatures; candidate i uses the (i mod count)-th.", DefaultValueFactory = _ => defaultTemperatures };
        foreach (var o in new Option[]
        {
            Model, Input, Output, Job, Resume, ForceNew, Policy, NumCandidates, Temperatures, PolicyTopP, PolicyMaxNewTokens, Seed,
            StripFinalAnswer, FinalAnswerMarker, Samples, Temperature, TopP, MaxNewTokens, PrefillThink, MinThinking, MaxThinking, Templates, DType,
        })
        {
            command.Options.Add(o);
        }
    }

    public JudgeOptions JudgeOptionsFrom(ParseResult parse)
    {
        var options = new JudgeOptions
        {
            Samples = parse.GetValue(Samples), Temperature = parse.GetValue(Temperature), TopP = parse.GetValue(TopP), Seed = parse.GetValue(Seed),
            MaxNewTokens = parse.GetValue(MaxNewTokens), BothOrders = true, Disagreement = DisagreementPolicy.Tie,
            PrefillThink = parse.GetValue(PrefillThink), MinThinkingTokens = parse.GetValue(MinThinking), MaxThinkingTokens = parse.GetValue(MaxThinking),
            TemplateDirectory = parse.GetValue(Templates),
        };
        options.Validate();
        return options;
    }

    public PolicyOptions PolicyOptionsFrom(ParseResult parse)
    {
        string text = parse.GetValue(Temperatures) ?? "";
        var temperatures = new List<float>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            temperatures.Add(float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out float t)
                ? t
                : throw new JudgeHostException($"--temperatures '{text}' is not a comma-separated list of numbers (e.g. 0.8,1.2)."));
        }

        var options = new PolicyOptions
        {
            Count = parse.GetValue(NumCandidates), Temperatures = temperatures, TopP = parse.GetValue(PolicyTopP),
            MaxNewTokens = parse.GetValue(PolicyMaxNewTokens), Seed = parse.GetValue(Seed),
        };
        options.Validate();
        return options;
    }

    /// <summary>The settings a job is keyed by: inputs (content hashes), models, and every setting that changes results.</summary>
    public JsonObject Configuration(ParseResult parse, string verb, JudgeOptions judge, PolicyOptions policy, JsonObject pipeline)
    {
        string? policyDir = parse.GetValue(Policy);
        return new JsonObject
        {
            ["verb"] = verb,
            ["input_sha256"] = FileHash(parse.GetValue(Input)!),
            ["judge_model"] = ModelIdentity(parse.GetValue(Model)!),
            ["dtype"] = parse.GetValue(DType) ?? "bfloat16",
            ["judge"] = new JsonObject
            {
                ["samples"] = judge.Samples, ["temperature"] = judge.Temperature, ["top_p"] = judge.TopP, ["seed"] = judge.Seed,
                ["max_new_tokens"] = judge.MaxNewTokens, ["prefill_think"] = judge.PrefillThink, ["min_thinking_tokens"] = judge.MinThinkingTokens,
                ["max_thinking_tokens"] = judge.MaxThinkingTokens, ["templates"] = TemplateIdentity(judge.TemplateDirectory),
            },
            ["policy_model"] = policyDir is null ? null : ModelIdentity(policyDir),
            ["policy"] = policyDir is null ? null : new JsonObject
            {
                ["count"] = policy.Count, ["temperatures"] = new JsonArray([.. policy.Temperatures.Select(t => (JsonNode)t)]),
                ["top_p"] = policy.TopP, ["max_new_tokens"] = policy.MaxNewTokens, ["seed"] = policy.Seed,
            },
            [verb] = pipeline,
        };
    }

    /// <summary>Loads the judge (and the policy when given), then runs the job over the input with progress.</summary>
    public async Task<int> RunAsync(
        ParseResult parse,
        string verb,
        JsonObject configuration,
        JudgeOptions judgeOptions,
        PolicyOptions policyOptions,
        IReadOnlyList<(string Path, Func<string, IEnumerable<string>> Project)> extraOutputs,
        Func<JudgeService, ICandidateSampler?, Func<PromptItem, CancellationToken, ItemOutcome>> makeProcess,
        Func<string, string, ItemOutcome> error,
        Func<JobStore, TextWriter, Task> summarize,
        CancellationToken ct)
    {
        string input = parse.GetValue(Input)!;
        string output = parse.GetValue(Output)!;
        if (!File.Exists(input))
        {
            throw new JudgeHostException($"Input file '{input}' does not exist.");
        }

        var mode = parse.GetValue(ForceNew) ? JobOpenMode.ForceNew : parse.GetValue(Resume) ? JobOpenMode.Resume : JobOpenMode.New;
        string jobPath = parse.GetValue(Job) ?? output + ".job.db";
        var log = parse.InvocationConfiguration.Error;

        // The store is checked before any model loads: a refused resume costs nothing.
        using var store = JobStore.Open(jobPath, verb, configuration, mode);
        if (store.Resumed)
        {
            await log.WriteLineAsync($"resuming {verb} job '{jobPath}': {store.Count} prompt(s) already finished");
        }

        using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), log);
        string dtype = parse.GetValue(DType) ?? "bfloat16";
        using var judgeModel = ModelCommands.LoadTextModel(parse, app, parse.GetValue(Model)!, dtype);
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var resolver = new JudgeHost.Plugins.EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog);
        using var judgeMedia = new MediaEncoders(resolver, parse.GetValue(Model)!, judgeModel.Model, loggers);
        var judgeBackend = new TextJudgeBackend(judgeModel.Generator, judgeModel.RequireTokenizer(), judgeModel.RequireTemplate(), judgeModel.EosIds, judgeMedia);
        var judge = new JudgeService(judgeBackend, judgeOptions);

        // A policy in the judge's own directory shares the loaded model.
        string? policyDir = parse.GetValue(Policy);
        bool samePolicy = policyDir is not null && Path.GetFullPath(policyDir) == Path.GetFullPath(parse.GetValue(Model)!);
        using var policyModel = policyDir is null || samePolicy ? null : ModelCommands.LoadTextModel(parse, app, policyDir, dtype);
        using var policyMedia = policyModel is null ? null : new MediaEncoders(resolver, policyDir!, policyModel.Model, loggers);
        IJudgeBackend? policyBackend = samePolicy ? judgeBackend
            : policyModel is null ? null
            : new TextJudgeBackend(policyModel.Generator, policyModel.RequireTokenizer(), policyModel.RequireTemplate(), policyModel.EosIds, policyMedia);
        var sampler = policyBackend is null ? null : new PolicySampler(policyBackend, policyOptions);

        var files = new List<(string, Func<string, IEnumerable<string>>)> { (output, record => [record]) };
        files.AddRange(extraOutputs);
        await using var outputs = await JsonlOutputs.OpenAsync(files, store, ct);
        var progress = JobProgressView.For(log, verb);
        JobProgress final;
        try
        {
            final = await JobRunner.RunAsync(input, store, outputs, makeProcess(judge, sampler), error, progress, ct);
        }
        finally
        {
            if (progress is IAsyncDisposable bar)
            {
                await bar.DisposeAsync();
            }
        }

        var counts = store.CountByStatus();
        await log.WriteLineAsync(
            $"{verb}: {final.Done} prompt(s) ({final.Skipped} from earlier runs): {string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Value} {c.Key}"))}; "
            + $"{final.ParseFailures} judgment parse failure(s) this run; output {output}, job {jobPath}");
        await summarize(store, log);
        if (counts.GetValueOrDefault("error") > 0)
        {
            await log.WriteLineAsync($"error: {counts["error"]} prompt(s) could not be run; see the records with \"status\":\"error\" in {output}.");
            return CliApp.UserError;
        }

        return CliApp.Ok;
    }

    /// <summary>Candidates of a prompt: its own, else sampled from the policy; a clear error when there are neither.</summary>
    public static IReadOnlyList<Candidate> CandidatesFor(PromptItem item, ICandidateSampler? sampler, CancellationToken ct) =>
        item.Candidates is { Count: > 0 } given ? Candidate.FromInput(given)
        : sampler?.Sample(item, ct)
        ?? throw new JudgeHostException($"Prompt '{item.Id}' has no \"candidates\" and no --policy was given to sample them. Add candidates to the line or pass --policy DIR.");

    private static string FileHash(string path)
    {
        if (!File.Exists(path))
        {
            throw new JudgeHostException($"Input file '{path}' does not exist.");
        }

        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    // A model is identified by its config and the names and sizes of its weight files (not by its path or mtime,
    // so a copied checkpoint resumes; not by hashing gigabytes of weights).
    private static JsonObject ModelIdentity(string directory)
    {
        string config = Path.Combine(directory, "config.json");
        if (!File.Exists(config))
        {
            throw new JudgeHostException($"Model directory '{directory}' has no config.json. Pass a Hugging Face model directory.");
        }

        var weights = Directory.EnumerateFiles(directory, "*.safetensors").Order(StringComparer.Ordinal)
            .Select(f => (JsonNode)$"{Path.GetFileName(f)}:{new FileInfo(f).Length}");
        return new JsonObject { ["config_sha256"] = FileHash(config), ["weights"] = new JsonArray([.. weights]) };
    }

    private static JsonNode? TemplateIdentity(string? directory) =>
        directory is null || !Directory.Exists(directory) ? directory
        : new JsonArray([.. Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal).Select(f => (JsonNode)$"{Path.GetFileName(f)}:{FileHash(f)}")]);
}

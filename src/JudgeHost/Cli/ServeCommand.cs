using System.CommandLine;
using JudgeHost.Abstractions;
using JudgeHost.Hosting;
using JudgeHost.Judging;
using JudgeHost.Service;
using Microsoft.Extensions.DependencyInjection;

namespace JudgeHost.Cli;

/// <summary><c>judgehost serve</c>: the judge as an HTTP service (judging, RL rewards, best-of-N, stored jobs, viewer).</summary>
public static class ServeCommand
{
    private static readonly Option<string> Model = new("--model") { Description = "Hugging Face model directory of the judge.", Required = true };
    private static readonly Option<string> Urls = new("--urls") { Description = "Addresses to listen on, ';'-separated (port 0 = any free port).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
    private static readonly Option<string?> MediaRoot = new("--media-root") { Description = "Folder that media paths in requests must lie inside (without it: uploads only)." };
    private static readonly Option<string?> DataRoot = new("--data-root") { Description = "Folder of job stores (*.job.db) and judged JSONL files for /v1/jobs, /v1/files and the viewer." };
    private static readonly Option<int> MaxQueue = new("--max-queue") { Description = "Requests admitted at once (queued or running); more get 429 + Retry-After.", DefaultValueFactory = _ => 64 };
    private static readonly Option<int> MaxBatch = new("--max-batch") { Description = "Most prompts (rows) per backbone batch.", DefaultValueFactory = _ => 32 };
    private static readonly Option<int> BatchWindow = new("--batch-window-ms") { Description = "Wait this long for more requests before running a batch.", DefaultValueFactory = _ => 5 };
    private static readonly Option<bool> NoBatching = new("--no-batching") { Description = "Run each request's prompts alone (no dynamic batching across requests)." };
    private static readonly Option<double> Timeout = new("--timeout-s") { Description = "Per-request limit in seconds (504 after it).", DefaultValueFactory = _ => 300 };
    private static readonly Option<double> MaxBodyMb = new("--max-body-mb") { Description = "Largest request body in MiB (413 beyond).", DefaultValueFactory = _ => 64 };
    private static readonly Option<int> MaxItems = new("--max-items") { Description = "Most requests per batch call.", DefaultValueFactory = _ => 256 };
    private static readonly Option<int> MaxCandidates = new("--max-candidates") { Description = "Most candidates per request.", DefaultValueFactory = _ => 64 };
    private static readonly Option<double> Drain = new("--drain-s") { Description = "On shutdown, how long running requests may finish; queued ones are then rejected (503).", DefaultValueFactory = _ => 30 };
    private static readonly Option<int> Samples = new("--samples", "-k") { Description = "Samples per prompt for majority voting.", DefaultValueFactory = _ => 1 };
    private static readonly Option<float> Temperature = new("--temperature") { Description = "0 = greedy.", DefaultValueFactory = _ => 0f };
    private static readonly Option<float> TopP = new("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => 1f };
    private static readonly Option<long> Seed = new("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
    private static readonly Option<int> MaxNewTokens = new("--max-new-tokens") { Description = "Token limit per judgment.", DefaultValueFactory = _ => 1024 };
    private static readonly Option<bool> SingleOrder = new("--single-order") { Description = "Judge pairwise requests in the given order only (default: both orders)." };
    private static readonly Option<bool> PrefillThink = new("--prefill-think") { Description = "Start the answer with \"<think>\\n\"." };
    private static readonly Option<int> MinThinking = new("--min-thinking-tokens") { Description = "Budget forcing: append \"Wait\" when reasoning closes earlier." };
    private static readonly Option<int> MaxThinking = new("--max-thinking-tokens") { Description = "Budget forcing: cut reasoning here and force the answer." };
    private static readonly Option<string?> Templates = new("--template-dir") { Description = "Folder with pointwise/pairwise/ranking/binary.json templates." };
    private static readonly Option<string?> DType = new("--dtype") { Description = "float32 or bfloat16 (default bfloat16)." };

    public static Command Build()
    {
        var serve = new Command("serve", "Serve the judge over HTTP: /v1/judge, /v1/judge/batch, /v1/rewards, /v1/best-of-n, /v1/jobs, /health, /ready, /metrics, /openapi/v1.json, and the viewer at /viewer/ (media from --media-root, files and jobs from --data-root).");
        foreach (var o in new Option[]
        {
            Model, Urls, MediaRoot, DataRoot, MaxQueue, MaxBatch, BatchWindow, NoBatching, Timeout, MaxBodyMb, MaxItems, MaxCandidates, Drain,
            Samples, Temperature, TopP, Seed, MaxNewTokens, SingleOrder, PrefillThink, MinThinking, MaxThinking, Templates, DType,
        })
        {
            serve.Options.Add(o);
        }

        serve.SetAction(async (parse, ct) =>
        {
            var options = new ServeOptions
            {
                Urls = parse.GetValue(Urls)!, MediaRoot = parse.GetValue(MediaRoot), DataRoot = parse.GetValue(DataRoot), MaxQueue = parse.GetValue(MaxQueue),
                MaxBatch = parse.GetValue(MaxBatch), BatchWindowMs = parse.GetValue(BatchWindow), DynamicBatching = !parse.GetValue(NoBatching),
                TimeoutSeconds = parse.GetValue(Timeout), MaxBodyBytes = (long)(parse.GetValue(MaxBodyMb) * 1024 * 1024), MaxItems = parse.GetValue(MaxItems),
                MaxCandidates = parse.GetValue(MaxCandidates), DrainSeconds = parse.GetValue(Drain),
            };
            options.Validate();
            var judgeOptions = new JudgeOptions
            {
                Samples = parse.GetValue(Samples), Temperature = parse.GetValue(Temperature), TopP = parse.GetValue(TopP), Seed = parse.GetValue(Seed),
                MaxNewTokens = parse.GetValue(MaxNewTokens), BothOrders = !parse.GetValue(SingleOrder), PrefillThink = parse.GetValue(PrefillThink),
                MinThinkingTokens = parse.GetValue(MinThinking), MaxThinkingTokens = parse.GetValue(MaxThinking), TemplateDirectory = parse.GetValue(Templates),
            };
            judgeOptions.Validate();
            string modelDir = parse.GetValue(Model)!;
            var error = parse.InvocationConfiguration.Error;
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), error);
            using var model = ModelCommands.LoadTextModel(parse, app, modelDir, parse.GetValue(DType) ?? "bfloat16");
            var resolver = new JudgeHost.Plugins.EncoderResolver(app.Services.GetServices<IModalityEncoderFactory>(), app.Catalog);
            using var media = new MediaEncoders(resolver, modelDir, model.Model, app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>());
            var backend = new TextJudgeBackend(model.Generator, model.RequireTokenizer(), model.RequireTemplate(), model.EosIds, media);
            options.FfmpegFolder = app.Configuration["Modalities:Video:FfmpegFolder"];
            await using var server = JudgeServer.Create(options, judgeOptions, backend, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir))), error, parse.GetValue(GlobalOptions.Verbose), MoleculePreview(resolver));
            try
            {
                await server.StartAsync(ct);
            }
            catch (IOException e)
            {
                throw new JudgeHostException($"Cannot listen on {options.Urls}: {e.Message} Choose another --urls (port 0 picks a free one).", e);
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync($"judgehost serve: listening on {string.Join(", ", server.Addresses)} (model {modelDir}); Ctrl+C stops.");
            await parse.InvocationConfiguration.Output.FlushAsync(ct);
            try
            {
                // SIGTERM/Ctrl+C reach the web host's own lifetime (which starts the drain) or cancel ct, whichever hears them.
                await server.WaitForShutdownAsync(ct);
            }
            catch (OperationCanceledException)
            {
            }

            await server.StopAsync(CancellationToken.None);
            await parse.InvocationConfiguration.Output.WriteLineAsync("judgehost serve: stopped.");
            return CliApp.Ok;
        });
        return serve;
    }

    // The viewer draws molecules with the molecule plugin's preprocessing when that plugin is loaded (any checkpoint family).
    private static IMediaPreprocessor? MoleculePreview(JudgeHost.Plugins.EncoderResolver resolver) =>
        resolver.Factories.Where(f => string.Equals(f.Modality, "molecule", StringComparison.OrdinalIgnoreCase)).OfType<IMediaPreprocessor>().FirstOrDefault();
}

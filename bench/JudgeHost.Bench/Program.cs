using JudgeHost.Bench;

// Benchmarks print absolute figures and ratios against a baseline measured in the same process.
// Usage: dotnet run -c Release --project bench/JudgeHost.Bench -- backbone|vision|best-of-n|serve|train [--dtype bfloat16|float32] [--quick]
JudgeHost.Backbone.TorchRuntime.EnableHugePageAllocations();
string suite = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "backbone";
bool quick = args.Contains("--quick");
string dtype = args.SkipWhile(a => a != "--dtype").Skip(1).FirstOrDefault() ?? "bfloat16";
return suite switch
{
    "backbone" => BackboneBench.Run(dtype, quick, Console.Out),
    "vision" => VisionBench.Run(quick, Console.Out),
    "best-of-n" => BestOfNBench.Run(quick, Console.Out),
    "profile" => JudgeHost.Bench.ProfileBench.Run(Console.Out),
    "serve" => ServeLoadBench.Run(quick, Console.Out),
    "train" => TrainBench.Run(quick, Console.Out),
    _ => Fail($"Unknown suite '{suite}'. Suites: backbone, vision, best-of-n, profile, serve, train."),
};

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}

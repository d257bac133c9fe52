using JudgeHost.Backbone;
using JudgeHost.Judging;
using static TorchSharp.torch;

// Judge candidates from C# in-process, as a generation loop would. With no argument a tiny random-weight
// checkpoint is made first (its verdicts come out "unparsed": random weights cannot follow the protocol);
// pass a real judge checkpoint directory to get real verdicts.
TorchRuntime.EnableHugePageAllocations();
string model = args.Length > 0 ? args[0] : MakeTinyJudge();

using var judgeModel = TextModel.Load(model, ScalarType.BFloat16, CPU);
var judge = new JudgeService(
    new TextJudgeBackend(judgeModel.Generator, judgeModel.RequireTokenizer(), judgeModel.RequireTemplate(), judgeModel.EosIds),
    new JudgeOptions { MaxNewTokens = 256 });

// A generation loop produced two answers; ask the judge which is better (judged in both orders).
var result = judge.Judge([new JudgeRequest
{
    Id = "step-1",
    Task = JudgeTask.Pairwise,
    Instruction = "What is 12 * 12?",
    Candidates = ["12 * 12 = 144.", "12 * 12 = 124."],
}])[0];

Console.WriteLine($"status: {result.Status}");
Console.WriteLine(result.Status == "ok"
    ? $"winner: {result.Verdict!.Outcome} (orders agree: {result.OrdersAgree})"
    : $"no verdict: {result.Verdict?.Reason ?? result.Error}");
Console.WriteLine($"samples: {result.Samples.Count}, generated tokens: {result.GeneratedTokens}");
return 0;

static string MakeTinyJudge()
{
    string dir = Path.Combine(Path.GetTempPath(), "judgehost-inprocess-sample");
    string tokenizer = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "tests", "JudgeHost.Tests", "Fixtures", "tokenizers", "qwen3");
    TinyCheckpoint.WriteWithTokenizer(dir, "qwen2", new TinyCheckpoint.Shape(), Path.GetFullPath(tokenizer), seed: 1);
    return dir;
}

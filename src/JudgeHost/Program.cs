using JudgeHost.Backbone;
using JudgeHost.Cli;

TorchRuntime.EnableHugePageAllocations();
return await CliApp.InvokeAsync(args, Console.Out, Console.Error);

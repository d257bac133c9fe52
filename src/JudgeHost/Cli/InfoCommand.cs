using System.CommandLine;
using System.Text.Json;
using JudgeHost.Backbone;
using JudgeHost.Hosting;
using Microsoft.Extensions.Configuration;

namespace JudgeHost.Cli;

/// <summary><c>judgehost info</c>: proves the native torch runtime loads and computes on the chosen device.</summary>
public static class InfoCommand
{
    public static Command Build()
    {
        var info = new Command("info", "Load libtorch, run a small computation on the chosen device, and print what was found.");
        info.SetAction((parse, ct) =>
        {
            using var app = JudgeHostApp.Create(GlobalOptions.ToSettings(parse), parse.InvocationConfiguration.Error);
            string spec = parse.GetValue(GlobalOptions.Device) ?? app.Configuration[$"{TorchOptions.Section}:Device"] ?? "cpu";
            var device = TorchRuntime.ResolveDevice(spec);
            var report = TorchRuntime.SelfCheck(device);
            parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
            {
                torch = report.TorchVersion,
                device = report.Device,
                threads = report.Threads,
                cuda_available = report.CudaAvailable,
                check = report.Check,
                plugins = app.Catalog.Entries.Count(e => e.Status == Plugins.PluginStatus.Loaded),
            }));
            return Task.FromResult(CliApp.Ok);
        });
        return info;
    }
}

using System.CommandLine;
using JudgeHost.Hosting;

namespace JudgeHost.Cli;

/// <summary>Options every command accepts.</summary>
public static class GlobalOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Debug logging, and stack traces for errors.",
        Recursive = true,
    };

    public static readonly Option<string?> PluginsDir = new("--plugins-dir")
    {
        Description = "Plugin folder (overrides PluginHost:Directory; default 'plugins').",
        Recursive = true,
    };

    public static readonly Option<string?> Config = new("--config")
    {
        Description = "JSON configuration file layered over appsettings.json.",
        Recursive = true,
    };

    public static readonly Option<string?> Device = new("--device")
    {
        Description = "cpu, cuda, cuda:N or auto (overrides Torch:Device).",
        Recursive = true,
    };

    public static HostSettings ToSettings(ParseResult parse) =>
        new(parse.GetValue(Verbose), parse.GetValue(PluginsDir), parse.GetValue(Config));
}

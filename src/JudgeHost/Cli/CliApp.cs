using System.CommandLine;
using JudgeHost.Abstractions;

namespace JudgeHost.Cli;

/// <summary>
/// The command line: builds the command tree and maps outcomes to exit codes — 0 success, 1 command-line
/// parse error, 2 user error (<see cref="JudgeHostException"/> with <c>IsUserError</c>; message on stderr, stack
/// trace only with <c>--verbose</c>). Anything else propagates.
/// </summary>
public static class CliApp
{
    public const int Ok = 0;
    public const int ParseError = 1;
    public const int UserError = 2;

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("JudgeHost: a host for multimodal reasoning LLM judges.");
        root.Options.Add(GlobalOptions.Verbose);
        root.Options.Add(GlobalOptions.PluginsDir);
        root.Options.Add(GlobalOptions.Config);
        root.Options.Add(GlobalOptions.Device);
        root.Subcommands.Add(PluginsCommand.Build());
        root.Subcommands.Add(InfoCommand.Build());
        root.Subcommands.Add(InspectCommand.Build());
        root.Subcommands.Add(ModelCommands.BuildGenerate());
        root.Subcommands.Add(JudgeCommand.Build());
        root.Subcommands.Add(EvalCommand.BuildEval());
        root.Subcommands.Add(EvalCommand.BuildReward());
        root.Subcommands.Add(BestOfNCommand.Build());
        root.Subcommands.Add(DpoCommand.Build());
        root.Subcommands.Add(TrainCommand.Build());
        root.Subcommands.Add(ServeCommand.Build());
        root.Subcommands.Add(ModelCommands.BuildTools());
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>, writing to the given writers.</summary>
    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = BuildRoot();
        var parse = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(configuration, cancellationToken);
        }
        catch (JudgeHostException e) when (e.IsUserError)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            if (parse.GetValue(GlobalOptions.Verbose))
            {
                await error.WriteLineAsync(e.ToString());
            }

            return UserError;
        }
    }
}

using JudgeHost.Cli;

namespace JudgeHost.Tests.Cli;

/// <summary>Runs the CLI in-process and captures its output.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await CliApp.InvokeAsync(args, output, error);
        return new Result(code, output.ToString(), error.ToString());
    }
}

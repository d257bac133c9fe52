using System.Globalization;
using JudgeHost.Pipelines;
using Spectre.Console;

namespace JudgeHost.Cli;

/// <summary>
/// Shows a job's progress: a Spectre.Console progress bar (items/s, ETA, running parse-failure and error counts)
/// when stderr is a terminal, plain log lines (at most one every two seconds, and the last) otherwise.
/// </summary>
internal static class JobProgressView
{
    public static IJobProgress For(TextWriter log, string verb) =>
        ReferenceEquals(log, Console.Error) && !Console.IsErrorRedirected
            ? new Bar(verb)
            : new Lines(log, verb);

    public static string Describe(string verb, JobProgress p)
    {
        string eta = p.Remaining is { } r ? r.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "?";
        string earlier = p.Skipped > 0 ? string.Create(CultureInfo.InvariantCulture, $", {p.Skipped} from earlier runs") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{verb}: {p.Done}/{p.Total} prompts, {p.ItemsPerSecond:F2} items/s, ETA {eta}, parse failures {p.ParseFailures}, errors {p.Errors}{earlier}");
    }

    private sealed class Lines(TextWriter log, string verb) : IJobProgress
    {
        private DateTime _last = DateTime.MinValue;

        public void Report(JobProgress progress)
        {
            var now = DateTime.UtcNow;
            if (progress.Done == progress.Total || now - _last >= TimeSpan.FromSeconds(2))
            {
                _last = now;
                log.WriteLine(Describe(verb, progress));
            }
        }
    }

    // The bar runs in Spectre's own loop; reports set its value and description from the job's thread.
    private sealed class Bar : IJobProgress, IAsyncDisposable
    {
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _loop;
        private readonly string _verb;
        private volatile ProgressTask? _bar;
        private volatile JobProgress? _latest;

        public Bar(string verb)
        {
            _verb = verb;
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            _loop = console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    _bar = context.AddTask(Markup.Escape(verb), autoStart: true, maxValue: 1);
                    Apply();
                    await _finished.Task;
                    Apply();
                });
        }

        public void Report(JobProgress progress)
        {
            _latest = progress;
            Apply();
        }

        public async ValueTask DisposeAsync()
        {
            _finished.TrySetResult();
            await _loop;
        }

        private void Apply()
        {
            if (_bar is { } bar && _latest is { } p)
            {
                bar.MaxValue = Math.Max(1, p.Total);
                bar.Value = p.Done;
                bar.Description = Markup.Escape(Describe(_verb, p));
            }
        }
    }
}

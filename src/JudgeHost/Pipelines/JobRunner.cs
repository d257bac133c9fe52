using System.Diagnostics;
using JudgeHost.Abstractions;
using JudgeHost.Store;

namespace JudgeHost.Pipelines;

/// <summary>What processing one prompt produced: its output record as JSON and the counts progress shows.</summary>
public sealed record ItemOutcome(string Id, string Status, string Record, int ParseFailures, bool IsError);

/// <summary>Running counts of a job, reported after every item.</summary>
/// <param name="Total">Items in the input (non-blank lines).</param>
/// <param name="Done">Items finished, earlier runs included.</param>
/// <param name="Skipped">Items finished by an earlier run of this job (not run again).</param>
/// <param name="ParseFailures">Judgments without a readable verdict in this run.</param>
/// <param name="Errors">Items that failed in this run.</param>
/// <param name="Elapsed">Time since this run started.</param>
public sealed record JobProgress(int Total, int Done, int Skipped, int ParseFailures, int Errors, TimeSpan Elapsed)
{
    /// <summary>Items per second finished by this run.</summary>
    public double ItemsPerSecond => Elapsed.TotalSeconds > 0 ? (Done - Skipped) / Elapsed.TotalSeconds : 0;

    /// <summary>Estimated time to finish at the current rate (null before the first item).</summary>
    public TimeSpan? Remaining => ItemsPerSecond > 0 ? TimeSpan.FromSeconds((Total - Done) / ItemsPerSecond) : null;
}

/// <summary>Receives a job's progress (the CLI shows bars on a terminal and log lines elsewhere).</summary>
public interface IJobProgress
{
    void Report(JobProgress progress);
}

/// <summary>
/// Runs a job item by item over a prompt file: items the store already holds are skipped, every other item is
/// processed, committed to the store, then appended to the outputs. A bad line or an item that fails with a user
/// error becomes an error record and the job goes on. Cancellation stops between items; what is committed stays.
/// </summary>
public static class JobRunner
{
    public static async Task<JobProgress> RunAsync(
        string inputPath,
        JobStore store,
        JsonlOutputs outputs,
        Func<PromptItem, CancellationToken, ItemOutcome> process,
        Func<string, string, ItemOutcome> error,
        IJobProgress? progress,
        CancellationToken ct)
    {
        int total = 0;
        await foreach (var _ in JsonlReader.ReadLinesAsync(inputPath, ct))
        {
            total++;
        }

        var clock = Stopwatch.StartNew();
        int done = 0, skipped = 0, parseFailures = 0, errors = 0;
        JobProgress Snapshot() => new(total, done, skipped, parseFailures, errors, clock.Elapsed);
        progress?.Report(Snapshot());
        await foreach (var line in PromptReader.ReadAsync(inputPath, ct))
        {
            ct.ThrowIfCancellationRequested();
            if (store.IsDone(line.Id))
            {
                done++;
                skipped++;
                continue;
            }

            ItemOutcome outcome;
            if (line.Item is null)
            {
                outcome = error(line.Id, line.Error!);
            }
            else
            {
                try
                {
                    outcome = process(line.Item, ct);
                }
                catch (JudgeHostException e) when (e.IsUserError)
                {
                    outcome = error(line.Id, e.Message);
                }
            }

            store.Commit(outcome.Id, outcome.Status, outcome.Record);
            await outputs.AppendAsync(outcome.Record, ct);
            done++;
            parseFailures += outcome.ParseFailures;
            errors += outcome.IsError ? 1 : 0;
            progress?.Report(Snapshot());
        }

        return Snapshot();
    }
}

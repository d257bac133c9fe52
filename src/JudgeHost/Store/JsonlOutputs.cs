using System.Text;

namespace JudgeHost.Store;

/// <summary>
/// The JSONL files a job writes (its main output and any exports), each a projection of the job's stored records
/// to zero or more lines. Opening rewrites every file from the job store (streamed, one record at a time), so after
/// a crash — when a file may lack its last lines or end in half a line — the files again hold exactly the committed
/// items, once each; then each new record is appended and flushed as it is committed. UTF-8 without BOM, one JSON
/// object per line.
/// </summary>
public sealed class JsonlOutputs : IAsyncDisposable
{
    private readonly List<(StreamWriter Writer, Func<string, IEnumerable<string>> Project)> _files = [];

    private JsonlOutputs()
    {
    }

    /// <summary>Opens every file for writing and replays the store's records into them.</summary>
    public static async Task<JsonlOutputs> OpenAsync(IReadOnlyList<(string Path, Func<string, IEnumerable<string>> Project)> files, JobStore store, CancellationToken ct)
    {
        var outputs = new JsonlOutputs();
        try
        {
            foreach (var (path, project) in files)
            {
                string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
                if (directory is not null)
                {
                    Directory.CreateDirectory(directory);
                }

                outputs._files.Add((new StreamWriter(path, append: false, new UTF8Encoding(false)), project));
            }

            foreach (var (_, _, record) in store.Records())
            {
                await outputs.WriteAsync(record, ct);
            }

            await outputs.FlushAsync(ct);
            return outputs;
        }
        catch
        {
            await outputs.DisposeAsync();
            throw;
        }
    }

    /// <summary>Appends a committed record to every file and flushes them.</summary>
    public async Task AppendAsync(string record, CancellationToken ct)
    {
        await WriteAsync(record, ct);
        await FlushAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (writer, _) in _files)
        {
            await writer.DisposeAsync();
        }
    }

    private async Task WriteAsync(string record, CancellationToken ct)
    {
        foreach (var (writer, project) in _files)
        {
            foreach (string line in project(record))
            {
                await writer.WriteLineAsync(line.AsMemory(), ct);
            }
        }
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        foreach (var (writer, _) in _files)
        {
            await writer.FlushAsync(ct);
        }
    }
}

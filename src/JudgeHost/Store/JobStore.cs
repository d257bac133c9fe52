using System.Text.Json;
using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using Microsoft.Data.Sqlite;

namespace JudgeHost.Store;

/// <summary>How a job store is opened.</summary>
public enum JobOpenMode
{
    /// <summary>Start a job; refuse when the store already holds one.</summary>
    New,

    /// <summary>Continue the job in the store (start one when there is none); refuse a changed configuration.</summary>
    Resume,

    /// <summary>Discard whatever the store holds and start over.</summary>
    ForceNew,
}

/// <summary>
/// A job's state in SQLite (Microsoft.Data.Sqlite): the job's kind, configuration and its hash, and one row per
/// finished item with the item's output record. Every item is committed in its own transaction as it finishes
/// (WAL, synchronous=FULL), so a crash or <c>kill -9</c> loses at most the item in flight; an item id can be
/// committed once only, so none is judged twice. A store refuses to continue a job whose inputs or settings
/// changed (<see cref="JobConfigMismatchException"/>).
/// </summary>
public sealed class JobStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly HashSet<string> _done;
    private long _nextSeq;

    private JobStore(string path, SqliteConnection connection, bool resumed, HashSet<string> done, long nextSeq)
    {
        Path = path;
        _connection = connection;
        Resumed = resumed;
        _done = done;
        _nextSeq = nextSeq;
    }

    public string Path { get; }

    /// <summary>True when this open continued an existing job.</summary>
    public bool Resumed { get; }

    /// <summary>Items finished so far (in this run and earlier ones).</summary>
    public int Count => _done.Count;

    /// <summary>The SHA-256 (hex) of a configuration object's canonical JSON.</summary>
    public static string Hash(JsonObject configuration) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(configuration.ToJsonString())));

    /// <summary>Opens (or creates) the store of a job of <paramref name="kind"/> with <paramref name="configuration"/>.</summary>
    public static JobStore Open(string path, string kind, JsonObject configuration, JobOpenMode mode)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string hash = Hash(configuration);
        string json = configuration.ToJsonString();
        bool exists = File.Exists(path);
        if (exists && mode == JobOpenMode.ForceNew)
        {
            Delete(path);
            exists = false;
        }

        string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
            Execute(connection, """
                CREATE TABLE IF NOT EXISTS job (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS items (
                    item_id TEXT PRIMARY KEY,
                    seq INTEGER NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    record TEXT NOT NULL,
                    finished_utc TEXT NOT NULL);
                """);
            var meta = ReadMeta(connection);
            if (meta.Count == 0)
            {
                using var tx = connection.BeginTransaction();
                foreach (var (key, value) in new[] { ("kind", kind), ("config_hash", hash), ("config", json), ("created_utc", DateTime.UtcNow.ToString("O")) })
                {
                    using var insert = connection.CreateCommand();
                    insert.Transaction = tx;
                    insert.CommandText = "INSERT INTO job (key, value) VALUES ($k, $v)";
                    insert.Parameters.AddWithValue("$k", key);
                    insert.Parameters.AddWithValue("$v", value);
                    insert.ExecuteNonQuery();
                }

                tx.Commit();
                return new JobStore(path, connection, resumed: false, [], 0);
            }

            int finished = Scalar(connection, "SELECT COUNT(*) FROM items");
            if (mode == JobOpenMode.New)
            {
                throw new JudgeHostException($"The job store '{path}' already holds a {meta.GetValueOrDefault("kind")} job ({finished} item(s) finished). Pass --resume to continue it, or --force-new to discard it and start over.");
            }

            if (meta.GetValueOrDefault("kind") != kind || meta.GetValueOrDefault("config_hash") != hash)
            {
                throw new JobConfigMismatchException(path, meta.GetValueOrDefault("kind") ?? "?", kind, Differences(meta.GetValueOrDefault("config"), configuration));
            }

            var done = new HashSet<string>(StringComparer.Ordinal);
            using (var select = connection.CreateCommand())
            {
                select.CommandText = "SELECT item_id FROM items";
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    done.Add(reader.GetString(0));
                }
            }

            return new JobStore(path, connection, resumed: true, done, Scalar(connection, "SELECT COALESCE(MAX(seq) + 1, 0) FROM items"));
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new JudgeHostException($"The job store '{path}' could not be opened ({e.Message}). If it is not a JudgeHost job file, choose another --job path, or pass --force-new to replace it.", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public bool IsDone(string itemId) => _done.Contains(itemId);

    /// <summary>Commits one finished item (its own transaction). Committing an id twice is a bug and throws.</summary>
    public void Commit(string itemId, string status, string record)
    {
        if (!_done.Add(itemId))
        {
            throw new InvalidOperationException($"Item '{itemId}' was already committed to job store '{Path}'.");
        }

        using var insert = _connection.CreateCommand();
        insert.CommandText = "INSERT INTO items (item_id, seq, status, record, finished_utc) VALUES ($id, $seq, $status, $record, $at)";
        insert.Parameters.AddWithValue("$id", itemId);
        insert.Parameters.AddWithValue("$seq", _nextSeq++);
        insert.Parameters.AddWithValue("$status", status);
        insert.Parameters.AddWithValue("$record", record);
        insert.Parameters.AddWithValue("$at", DateTime.UtcNow.ToString("O"));
        insert.ExecuteNonQuery();
    }

    /// <summary>Finished records in commit order, streamed from the database.</summary>
    public IEnumerable<(string Id, string Status, string Record)> Records()
    {
        using var select = _connection.CreateCommand();
        select.CommandText = "SELECT item_id, status, record FROM items ORDER BY seq";
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            yield return (reader.GetString(0), reader.GetString(1), reader.GetString(2));
        }
    }

    /// <summary>Finished items per status.</summary>
    public IReadOnlyDictionary<string, int> CountByStatus()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        using var select = _connection.CreateCommand();
        select.CommandText = "SELECT status, COUNT(*) FROM items GROUP BY status";
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }

        return counts;
    }

    public void Dispose() => _connection.Dispose();

    private static void Delete(string path)
    {
        foreach (string file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            File.Delete(file);
        }
    }

    private static Dictionary<string, string> ReadMeta(SqliteConnection connection)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT key, value FROM job";
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            meta[reader.GetString(0)] = reader.GetString(1);
        }

        return meta;
    }

    // Top-level settings whose values differ between the stored and the new configuration.
    private static IReadOnlyList<string> Differences(string? storedJson, JsonObject current)
    {
        JsonObject? stored = null;
        try
        {
            stored = storedJson is null ? null : JsonNode.Parse(storedJson) as JsonObject;
        }
        catch (JsonException)
        {
        }

        if (stored is null)
        {
            return ["(the stored configuration is unreadable)"];
        }

        var differences = new List<string>();
        Compare("", stored, current, differences);
        return differences;
    }

    // Settings that differ, as dotted paths (judge.max_new_tokens: 8 -> 9); objects are compared key by key.
    private static void Compare(string path, JsonNode? stored, JsonNode? current, List<string> differences)
    {
        if (stored is JsonObject a && current is JsonObject b)
        {
            foreach (string key in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
            {
                Compare(path.Length == 0 ? key : $"{path}.{key}", a[key], b[key], differences);
            }
        }
        else if (!JsonNode.DeepEquals(stored, current))
        {
            differences.Add($"{path}: {Show(stored)} -> {Show(current)}");
        }
    }

    private static string Show(JsonNode? node)
    {
        string text = node?.ToJsonString() ?? "(none)";
        return text.Length > 80 ? text[..77] + "..." : text;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static int Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>A job store holds a job started with other inputs or settings than the ones given now.</summary>
public sealed class JobConfigMismatchException(string path, string storedKind, string kind, IReadOnlyList<string> differences)
    : JudgeHostException(
        $"The job in '{path}' was started with other inputs or settings, so its finished items would not match this run "
        + $"({(storedKind != kind ? $"kind: {storedKind} -> {kind}; " : "")}{string.Join("; ", differences)}). "
        + "Resume with the original inputs and settings, or pass --force-new to discard the old job and start over.")
{
    public IReadOnlyList<string> Differences { get; } = differences;
}

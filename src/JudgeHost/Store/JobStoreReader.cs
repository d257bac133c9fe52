using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using Microsoft.Data.Sqlite;

namespace JudgeHost.Store;

/// <summary>What a job store holds: its kind, configuration, and finished items per status.</summary>
public sealed record JobSummary(
    [property: System.Text.Json.Serialization.JsonPropertyName("kind")] string Kind,
    [property: System.Text.Json.Serialization.JsonPropertyName("created_utc")] string? CreatedUtc,
    [property: System.Text.Json.Serialization.JsonPropertyName("config_hash")] string? ConfigHash,
    [property: System.Text.Json.Serialization.JsonPropertyName("config")] JsonNode? Config,
    [property: System.Text.Json.Serialization.JsonPropertyName("finished")] int Finished,
    [property: System.Text.Json.Serialization.JsonPropertyName("by_status")] IReadOnlyDictionary<string, int> ByStatus,
    [property: System.Text.Json.Serialization.JsonPropertyName("last_finished_utc")] string? LastFinishedUtc);

/// <summary>
/// Reads a <see cref="JobStore"/> file without opening it for writing (SQLite read-only; a job still running in
/// another process keeps writing through WAL while this reads).
/// </summary>
public static class JobStoreReader
{
    public static JobSummary Summary(string path)
    {
        using var connection = Open(path);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        Query(connection, "SELECT key, value FROM job", r => meta[r.GetString(0)] = r.GetString(1));
        if (!meta.TryGetValue("kind", out string? kind))
        {
            throw new JudgeHostException($"'{Path.GetFileName(path)}' is not a JudgeHost job store (no job kind recorded).");
        }

        var byStatus = new Dictionary<string, int>(StringComparer.Ordinal);
        Query(connection, "SELECT status, COUNT(*) FROM items GROUP BY status", r => byStatus[r.GetString(0)] = r.GetInt32(1));
        string? last = null;
        Query(connection, "SELECT MAX(finished_utc) FROM items", r => last = r.IsDBNull(0) ? null : r.GetString(0));
        JsonNode? config = null;
        try
        {
            config = meta.TryGetValue("config", out string? json) ? JsonNode.Parse(json) : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return new JobSummary(kind, meta.GetValueOrDefault("created_utc"), meta.GetValueOrDefault("config_hash"), config, byStatus.Values.Sum(), byStatus, last);
    }

    /// <summary>Finished records in commit order from <paramref name="offset"/>, at most <paramref name="limit"/>; optionally of one status.</summary>
    public static (int Total, IReadOnlyList<string> Records) Records(string path, int offset, int limit, string? status)
    {
        using var connection = Open(path);
        int total = 0;
        var records = new List<string>();
        using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT COUNT(*) FROM items WHERE $status IS NULL OR status = $status";
            count.Parameters.AddWithValue("$status", (object?)status ?? DBNull.Value);
            total = Convert.ToInt32(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        using var select = connection.CreateCommand();
        select.CommandText = "SELECT record FROM items WHERE $status IS NULL OR status = $status ORDER BY seq LIMIT $limit OFFSET $offset";
        select.Parameters.AddWithValue("$status", (object?)status ?? DBNull.Value);
        select.Parameters.AddWithValue("$limit", limit);
        select.Parameters.AddWithValue("$offset", offset);
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            records.Add(reader.GetString(0));
        }

        return (total, records);
    }

    private static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            connection.Open();
            using var check = connection.CreateCommand();
            check.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('job', 'items')";
            if (Convert.ToInt32(check.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) != 2)
            {
                throw new JudgeHostException($"'{Path.GetFileName(path)}' is not a JudgeHost job store (its tables are missing).");
            }

            return connection;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new JudgeHostException($"'{Path.GetFileName(path)}' could not be read as a job store ({e.Message}).", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Query(SqliteConnection connection, string sql, Action<SqliteDataReader> row)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            row(reader);
        }
    }
}

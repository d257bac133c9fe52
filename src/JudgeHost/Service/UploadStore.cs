using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace JudgeHost.Service;

/// <summary>
/// Files uploaded with multipart requests, kept while their requests run. A file is stored once under its SHA-256
/// (plus its extension, which plugins read the format from), so requests that upload the same image share one path,
/// and with it the judge's cached media + instruction prefix. A file is deleted when the last request using it ends.
/// </summary>
public sealed partial class UploadStore : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "judgehost-uploads", $"{Environment.ProcessId}-{Guid.NewGuid():N}");
    private readonly Dictionary<string, int> _references = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Stores every file part of <paramref name="files"/>; the set releases them on dispose.</summary>
    public async Task<UploadSet> SaveAsync(IFormFileCollection files, CancellationToken ct)
    {
        var set = new UploadSet(this);
        try
        {
            Directory.CreateDirectory(_directory);
            foreach (var file in files)
            {
                if (set.Find(file.Name) is not null)
                {
                    throw new ServiceException(400, $"Two file parts are named '{file.Name}'; give each upload its own part name.");
                }

                string temp = Path.Combine(_directory, "incoming-" + Guid.NewGuid().ToString("N"));
                byte[] hash;
                await using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
                await using (var source = file.OpenReadStream())
                {
                    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    byte[] buffer = new byte[81920];
                    int read;
                    while ((read = await source.ReadAsync(buffer, ct)) > 0)
                    {
                        sha.AppendData(buffer, 0, read);
                        await target.WriteAsync(buffer.AsMemory(0, read), ct);
                    }

                    hash = sha.GetHashAndReset();
                }

                string extension = Path.GetExtension(file.FileName ?? "");
                extension = SafeExtension().IsMatch(extension) ? extension.ToLowerInvariant() : "";
                string path = Path.Combine(_directory, Convert.ToHexStringLower(hash) + extension);
                lock (_gate)
                {
                    if (_references.TryGetValue(path, out int count))
                    {
                        File.Delete(temp);
                        _references[path] = count + 1;
                    }
                    else
                    {
                        File.Move(temp, path, overwrite: true);
                        _references[path] = 1;
                    }
                }

                set.Add(file.Name, path);
            }

            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    internal void Release(string path)
    {
        lock (_gate)
        {
            if (_references.TryGetValue(path, out int count) && --count > 0)
            {
                _references[path] = count;
                return;
            }

            _references.Remove(path);
            File.Delete(path);
        }
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\.[A-Za-z0-9]{1,10}$")]
    private static partial System.Text.RegularExpressions.Regex SafeExtension();
}

/// <summary>The uploads of one request, by part name; releases them on dispose.</summary>
public sealed class UploadSet(UploadStore store) : IDisposable
{
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);

    public string? Find(string name) => _files.GetValueOrDefault(name);

    internal void Add(string name, string path) => _files[name] = path;

    public void Dispose()
    {
        foreach (string path in _files.Values)
        {
            store.Release(path);
        }

        _files.Clear();
    }
}

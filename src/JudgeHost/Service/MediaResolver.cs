using System.Runtime.InteropServices;
using JudgeHost.Judging;

namespace JudgeHost.Service;

/// <summary>
/// Where a request's media files come from: a path inside the configured media root (relative to it, or absolute
/// inside it; <c>..</c>, absolute paths elsewhere and symbolic links leading out are refused with 403), or
/// <c>upload:NAME</c>, a file part of the same multipart request. Inline values (SMILES) pass unchanged.
/// </summary>
public sealed partial class MediaResolver
{
    public const string UploadScheme = "upload:";

    private readonly string? _root;
    private readonly string? _realRoot;

    public MediaResolver(string? mediaRoot)
    {
        if (mediaRoot is not null)
        {
            _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(mediaRoot));
            _realRoot = RealPath(_root) ?? _root;
        }
    }

    public string? Root => _root;

    /// <summary>The request with every media path replaced by the file it names; throws <see cref="ServiceException"/> (400/403).</summary>
    public JudgeRequest Resolve(JudgeRequest request, UploadSet? uploads) =>
        request.Media.Count == 0 ? request : request with { Media = [.. request.Media.Select(m => Resolve(m, request.Id, uploads))] };

    public MediaRef Resolve(MediaRef item, string requestId, UploadSet? uploads)
    {
        if (item.Path is not { } path)
        {
            return item;
        }

        if (path.StartsWith(UploadScheme, StringComparison.Ordinal))
        {
            string name = path[UploadScheme.Length..];
            return uploads?.Find(name) is { } file
                ? item with { Path = file }
                : throw new ServiceException(400, $"Request '{requestId}': media path '{path}' names an upload, but the request has no file part named '{name}'. Send it as multipart/form-data with a file part of that name.");
        }

        return item with { Path = ResolvePath(path, requestId) };
    }

    /// <summary>A path inside the media root as a full path; throws 400 without a root, 403 outside it.</summary>
    public string ResolvePath(string path, string requestId)
    {
        if (_root is null)
        {
            throw new ServiceException(400, $"Request '{requestId}': media path '{path}' cannot be read: this server has no media root. Upload the file (multipart/form-data, path \"upload:NAME\"), or start the server with --media-root DIR.");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ServiceException(400, $"Request '{requestId}': media path contains a NUL character.");
        }

        string full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(_root, path));
        string? real = File.Exists(full) || Directory.Exists(full) ? RealPath(full) : null;
        if (!Inside(full, _root) || (real is not null && !Inside(real, _realRoot!)))
        {
            throw new ServiceException(403, $"Request '{requestId}': media path '{path}' lies outside the media root. Give a path inside the media root (relative to it), or upload the file.");
        }

        return File.Exists(full)
            ? full
            : throw new ServiceException(400, $"Request '{requestId}': media file '{path}' does not exist in the media root. Check the path (relative to the media root), or upload the file.");
    }

    private static bool Inside(string path, string root) =>
        path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    // The path with every symbolic link resolved (libc realpath), or null when it cannot be resolved.
    private static string? RealPath(string path)
    {
        nint resolved = NativeRealPath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            NativeFree(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint NativeRealPath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void NativeFree(nint pointer);
}

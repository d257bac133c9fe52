using JudgeHost.Abstractions;

namespace JudgeHost.Service;

/// <summary>
/// An HTTP request that cannot be served, with the status code it is answered with (400 malformed body, 403 a media
/// path outside the media root, 413 too large, 422 a request that could not be judged, 429 queue full, 503 shutting
/// down, 504 timed out, 500 an internal failure contained to this request). The message says what to do.
/// </summary>
public sealed class ServiceException(int statusCode, string message, Exception? inner = null) : JudgeHostException(message, inner)
{
    public int StatusCode { get; } = statusCode;

    /// <summary>Seconds the client should wait before retrying (429, 503), or null.</summary>
    public int? RetryAfterSeconds { get; init; }
}

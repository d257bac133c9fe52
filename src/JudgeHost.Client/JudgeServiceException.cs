namespace JudgeHost.Client;

/// <summary>The server refused or could not finish a call: the HTTP status, the problem's detail, and Retry-After when given.</summary>
public sealed class JudgeServiceException(int statusCode, string detail, TimeSpan? retryAfter, string body)
    : Exception($"Judge service answered {statusCode}: {detail}")
{
    public int StatusCode { get; } = statusCode;

    public string Detail { get; } = detail;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The whole response body (problem+json).</summary>
    public string Body { get; } = body;
}

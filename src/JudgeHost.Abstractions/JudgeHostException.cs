namespace JudgeHost.Abstractions;

/// <summary>
/// Base of every error JudgeHost reports to a user. When <see cref="IsUserError"/> is true the command-line
/// host prints <see cref="Exception.Message"/> without a stack trace and exits with code 2; the message says
/// what was wrong, the value, and what to do.
/// </summary>
public class JudgeHostException : Exception
{
    /// <summary>Creates an exception.</summary>
    public JudgeHostException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    public JudgeHostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public JudgeHostException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when the input or the environment is at fault (exit code 2), false for internal failures.</summary>
    public bool IsUserError { get; init; } = true;
}

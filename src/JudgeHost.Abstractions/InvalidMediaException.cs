namespace JudgeHost.Abstractions;

/// <summary>A media item cannot be used: missing, empty, corrupt, unsupported or too large. The message names the item.</summary>
public class InvalidMediaException : JudgeHostException
{
    /// <summary>Creates an exception.</summary>
    public InvalidMediaException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    public InvalidMediaException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidMediaException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

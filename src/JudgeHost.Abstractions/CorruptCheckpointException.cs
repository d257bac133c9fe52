namespace JudgeHost.Abstractions;

/// <summary>A checkpoint file is truncated, corrupt or inconsistent (offsets, dtype, shape). The message names the file.</summary>
public class CorruptCheckpointException : JudgeHostException
{
    /// <summary>Creates an exception.</summary>
    public CorruptCheckpointException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    public CorruptCheckpointException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public CorruptCheckpointException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

namespace JudgeHost.Abstractions;

/// <summary>A tensor a model or plugin needs is absent from the checkpoint. The message names the tensor and the checkpoint.</summary>
public class MissingWeightsException : JudgeHostException
{
    /// <summary>Creates an exception.</summary>
    public MissingWeightsException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    public MissingWeightsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public MissingWeightsException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

namespace JudgeHost.Abstractions;

/// <summary>A plugin could not be loaded or is not available for a request. The message names the plugin, its path and the reason.</summary>
public class PluginLoadException : JudgeHostException
{
    /// <summary>Creates an exception.</summary>
    public PluginLoadException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    public PluginLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">What was wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public PluginLoadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

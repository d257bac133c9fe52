using Microsoft.Extensions.Logging;

namespace JudgeHost.Hosting;

/// <summary>Writes log lines (<c>warn: category: message</c>) to one writer, normally standard error.</summary>
public sealed class TextWriterLoggerProvider(TextWriter writer, LogLevel minimum) : ILoggerProvider
{
    private readonly Lock _gate = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TextWriterLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string level = logLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            string shortCategory = category[(category.LastIndexOf('.') + 1)..];
            lock (owner._gate)
            {
                owner._writer.WriteLine($"{level}: {shortCategory}: {formatter(state, exception)}");
                if (exception is not null && owner.Minimum <= LogLevel.Debug)
                {
                    owner._writer.WriteLine(exception.ToString());
                }
            }
        }
    }

    private TextWriter _writer => writer;

    private LogLevel Minimum => minimum;
}

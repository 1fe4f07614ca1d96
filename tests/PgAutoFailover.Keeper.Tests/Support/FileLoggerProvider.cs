using Microsoft.Extensions.Logging;

namespace PgAutoFailover.Keeper.Tests.Support;

/// <summary>Writes a keeper's log to a file beside its data directory (kept with PGAF_KEEP_CLUSTERS=1), and keeps it in memory for assertions.</summary>
public sealed class FileLoggerProvider(string path) : ILoggerProvider
{
    private readonly object _gate = new();
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines { get { lock (_gate) return _lines.ToList(); } }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    private void Write(string line)
    {
        lock (_gate)
        {
            _lines.Add(line);
            try { File.AppendAllText(path, line + Environment.NewLine); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public void Dispose() { }

    private sealed class Logger(FileLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var shortCategory = category[(category.LastIndexOf('.') + 1)..];
            owner.Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel,-11} {shortCategory}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
        }
    }
}

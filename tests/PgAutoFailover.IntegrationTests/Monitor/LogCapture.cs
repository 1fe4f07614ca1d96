using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PgAutoFailover.IntegrationTests.Monitor;

/// <summary>Keeps every log entry of a host with its structured values (the named placeholders), for assertions.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    /// <summary>One entry: level, category, rendered message, the placeholder values by name and the exception logged with it.</summary>
    public sealed record Entry(LogLevel Level, string Category, string Message, IReadOnlyDictionary<string, object?> Values, Exception? Exception = null);

    public IReadOnlyList<Entry> Entries => _entries.ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>What a harness applies to a host's builder so this capture receives its <paramref name="category"/> logs from <paramref name="level"/> up.</summary>
    public Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder> Into(string category = "PgAutoFailover", LogLevel level = LogLevel.Information) => b =>
    {
        b.Logging.AddProvider(this);
        b.Logging.AddFilter<LogCapture>(category, level);
    };

    public void Dispose() { }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug; // the filters of Into() decide

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value)
                : new Dictionary<string, object?>();
            owner._entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), values, exception));
        }
    }
}

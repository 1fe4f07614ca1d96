using Marten;
using Marten.Services;
using Npgsql;

namespace PgAutoFailover.Monitor.Store;

/// <summary>
/// Marten's command log, as Marten's own logger writes it (category <c>Marten.IDocumentStore</c>, failures as errors),
/// less one failure: a stream version conflict (<c>MT003</c>). With several monitors that is how an instance learns that
/// another advanced a group (docs/operations.md#several-monitors); <see cref="Groups.GroupCoordinator"/> reloads, decides
/// again and says so in one line. Marten's error, with the whole SQL batch and a stack trace for each, made the log of a
/// healthy three-monitor deployment look broken several times a second.
/// </summary>
public sealed partial class StoreLogger(ILoggerFactory loggers) : IMartenLogger, IMartenSessionLogger
{
    private readonly ILogger _logger = loggers.CreateLogger("Marten.IDocumentStore");

    /// <summary>The conflict the optimistic concurrency of a group's stream raises (Marten's mt_quick_append_events).</summary>
    public static bool IsStreamVersionConflict(Exception e) => e is PostgresException { SqlState: "MT003" };

    public IMartenSessionLogger StartSession(IQuerySession session) => this;

    public void SchemaChange(string sql) => Log.SchemaChanged(_logger, sql);

    public void LogFailure(NpgsqlCommand command, Exception ex)
    {
        if (!IsStreamVersionConflict(ex)) Log.CommandFailed(_logger, ex, command.CommandText);
    }

    public void LogFailure(NpgsqlBatch batch, Exception ex)
    {
        if (!IsStreamVersionConflict(ex)) Log.CommandFailed(_logger, ex, string.Join("; ", batch.BatchCommands.Select<NpgsqlBatchCommand, string>(c => c.CommandText)));
    }

    public void LogFailure(Exception ex, string message)
    {
        if (!IsStreamVersionConflict(ex)) Log.Failed(_logger, ex, message);
    }

    public void LogSuccess(NpgsqlCommand command)
    {
    }

    public void LogSuccess(NpgsqlBatch batch)
    {
    }

    public void RecordSavedChanges(IDocumentSession session, IChangeSet commit)
    {
    }

    public void OnBeforeExecute(NpgsqlCommand command)
    {
    }

    public void OnBeforeExecute(NpgsqlBatch batch)
    {
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Store schema changed: {Sql}")]
        public static partial void SchemaChanged(ILogger logger, string sql);

        [LoggerMessage(Level = LogLevel.Error, Message = "Store command failed: {Sql}")]
        public static partial void CommandFailed(ILogger logger, Exception exception, string sql);

        [LoggerMessage(Level = LogLevel.Error, Message = "Store operation failed: {Message}")]
        public static partial void Failed(ILogger logger, Exception exception, string message);
    }
}

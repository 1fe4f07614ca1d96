using Marten;
using Marten.Services;
using Npgsql;

namespace PgAutoFailover.Monitor.Store;

/// <summary>
/// Marten's command log, as Marten's own logger writes it (category <c>Marten.IDocumentStore</c>, failures as errors),
/// less the conflicts of concurrent writers (<see cref="IsConcurrentWriteConflict"/>). With several monitors that is how an instance learns that
/// another advanced a group (docs/operations.md#several-monitors); <see cref="Groups.GroupCoordinator"/> reloads, decides
/// again and says so in one line. Marten's error, with the whole SQL batch and a stack trace for each, made the log of a
/// healthy three-monitor deployment look broken several times a second.
/// </summary>
public sealed partial class StoreLogger(ILoggerFactory loggers) : IMartenLogger, IMartenSessionLogger
{
    private readonly ILogger _logger = loggers.CreateLogger("Marten.IDocumentStore");

    /// <summary>
    /// A conflict <see cref="GroupStore"/> turns into a <see cref="GroupVersionConflict"/> or a
    /// <see cref="NodeDirectoryConflict"/> and its caller handles: the version check of Marten's mt_quick_append_events
    /// (MT003); two appends that both passed it, the second stopped by the one-version-per-stream index (seen under
    /// load); two instances starting the same group's stream; a name or address taken by a concurrent registration.
    /// </summary>
    public static bool IsConcurrentWriteConflict(Exception e) => e switch
    {
        PostgresException { SqlState: "MT003" } => true,
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "pk_mt_events_stream_and_version" } => true,
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, TableName: "mt_streams" } => true,
        _ => NodeDirectoryConflict.From(e) is not null,
    };

    public IMartenSessionLogger StartSession(IQuerySession session) => this;

    public void SchemaChange(string sql) => Log.SchemaChanged(_logger, sql);

    public void LogFailure(NpgsqlCommand command, Exception ex)
    {
        if (!IsConcurrentWriteConflict(ex)) Log.CommandFailed(_logger, ex, command.CommandText);
    }

    public void LogFailure(NpgsqlBatch batch, Exception ex)
    {
        if (!IsConcurrentWriteConflict(ex)) Log.CommandFailed(_logger, ex, string.Join("; ", batch.BatchCommands.Select<NpgsqlBatchCommand, string>(c => c.CommandText)));
    }

    public void LogFailure(Exception ex, string message)
    {
        if (!IsConcurrentWriteConflict(ex)) Log.Failed(_logger, ex, message);
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

using Npgsql;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>One sample of the keeper's fast watch.</summary>
/// <param name="InRecovery">PostgreSQL is a standby.</param>
/// <param name="ReceiverStreaming">Its WAL receiver is streaming from the primary.</param>
/// <param name="Standbys">The pgautofailover standbys streaming from this node (on a primary), with their reply times.</param>
/// <param name="FlushLsn">On a primary, its WAL flush position; 0 on a standby.</param>
/// <param name="SynchronousNamesSet">On a primary, whether synchronous_standby_names is set (commits wait for a standby).</param>
public sealed record WatchSample(bool InRecovery, bool ReceiverStreaming, IReadOnlyList<StandbyReplication> Standbys,
    ulong FlushLsn = 0, bool SynchronousNamesSet = false);

/// <summary>
/// The keeper's fast look at its PostgreSQL, every FenceCheckPeriod (100 ms): on a primary, whether a standby still
/// replies (the lease check) and how long its WAL waits for a standby's flush; on a standby, whether its WAL receiver still streams (a standby that stops reports at
/// once, and the monitor's lease wait starts then). One connection kept open: a new backend ten times a second
/// would cost more than the query. Any failure closes it; the next sample opens a new one.
/// </summary>
public sealed class LocalWatch(PostgresServer server) : IAsyncDisposable
{
    private NpgsqlConnection? _connection;

    public async Task<WatchSample> SampleAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_connection is null)
            {
                var builder = new NpgsqlConnectionStringBuilder(server.LocalConnectionString) { ApplicationName = "pgautofailover keeper watch" };
                _connection = new NpgsqlConnection(builder.ConnectionString);
                await _connection.OpenAsync(cancellationToken);
            }
            bool inRecovery;
            string receiver;
            ulong flush;
            bool synchronousNamesSet;
            // pg_current_wal_flush_lsn() fails during recovery; CASE evaluates it only on a primary.
            await using (var cmd = new NpgsqlCommand("""
                SELECT pg_is_in_recovery(), coalesce((SELECT status FROM pg_stat_wal_receiver), ''),
                       CASE WHEN pg_is_in_recovery() THEN 0 ELSE pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint END,
                       current_setting('synchronous_standby_names') <> ''
                """, _connection))
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                inRecovery = reader.GetBoolean(0);
                receiver = reader.GetString(1);
                flush = (ulong)reader.GetInt64(2);
                synchronousNamesSet = reader.GetBoolean(3);
            }
            var standbys = inRecovery ? [] : await PgSql.StandbysAsync(_connection, cancellationToken);
            return new WatchSample(inRecovery, inRecovery && receiver == "streaming", standbys, flush, synchronousNamesSet);
        }
        catch
        {
            await CloseAsync();
            throw;
        }
    }

    /// <summary>Drops the connection (PostgreSQL stopped, or a sample failed).</summary>
    public async Task CloseAsync()
    {
        var connection = _connection;
        _connection = null;
        if (connection is not null) await connection.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await CloseAsync();
}

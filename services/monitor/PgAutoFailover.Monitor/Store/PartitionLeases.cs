using Npgsql;
using NpgsqlTypes;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Monitor.Store;

/// <summary>
/// Who holds which partition, in the monitor store (docs/architecture.md#groups-spread-over-monitors). A hold is a row
/// naming the instance and its store session, renewed every renew period through one dedicated connection. A hold is
/// over when its lease ran out or when its session is gone from pg_stat_activity: a killed instance's connection
/// closes, so its partitions are free at once, while one that hangs with its session open keeps them one lease. Times
/// are the store's own (now()), so the instances' clocks never meet. Holding is about sharing the work, not safety:
/// two instances on one group still write through the stream's optimistic concurrency.
/// </summary>
public sealed class PartitionLeases(NpgsqlDataSource dataSource, MonitorServiceOptions options) : IAsyncDisposable
{
    private const string Schema = "pgaf_monitor";

    // A session is live when PostgreSQL still runs its backend; a lease not yet over and a live session make a hold.
    private const string Held = $"""
        o.expires_at > now() and exists (select 1 from pg_stat_activity a where a.pid = o.backend_pid)
        """;

    private NpgsqlConnection? _connection;
    private bool _schemaReady;

    /// <summary>This instance's name in the store: host, process and a random part (two processes may share a pid in containers).</summary>
    public string InstanceId { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..^24];

    /// <summary>
    /// Says this instance is alive and renews its holds. Returns the live instances (itself included) and the partitions
    /// it still holds: a hold that ran out, or that another instance took meanwhile, is not among them.
    /// </summary>
    public async Task<(int LiveInstances, IReadOnlyList<int> Held)> RenewAsync(CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                Command($"""
                    insert into {Schema}.monitor_instance (id, backend_pid, expires_at) values (@me, pg_backend_pid(), now() + @lease)
                    on conflict (id) do update set backend_pid = excluded.backend_pid, expires_at = excluded.expires_at
                    """),
                Command($"""
                    update {Schema}.partition_owner o set expires_at = now() + @lease, backend_pid = pg_backend_pid()
                    where o.owner = @me and o.expires_at > now() returning o.partition
                    """),
                Command($"""
                    select count(*)::int from {Schema}.monitor_instance o where {Held}
                    """),
                // Instances gone for a day are forgotten; their rows only fed the count above, which skips them anyway.
                Command($"delete from {Schema}.monitor_instance where expires_at < now() - interval '1 day'"),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var held = new List<int>();
        while (await reader.ReadAsync(cancellationToken)) held.Add(reader.GetInt32(0));
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var live = reader.GetInt32(0);
        return (live, held);
    }

    /// <summary>Takes up to <paramref name="count"/> free partitions, chosen at random so instances starting together spread.</summary>
    public async Task<IReadOnlyList<int>> TakeAsync(int count, CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(cancellationToken);
        // Two instances taking one partition at once: the second's insert meets the first's row, waits for its commit
        // and re-checks the condition against it, which now holds, so it gets nothing.
        await using var command = new NpgsqlCommand($"""
            with free as (
                select p from generate_series(0, @partitions - 1) p
                where not exists (select 1 from {Schema}.partition_owner o where o.partition = p and {Held})
                order by random() limit @count)
            insert into {Schema}.partition_owner as o (partition, owner, backend_pid, expires_at)
            select p, @me, pg_backend_pid(), now() + @lease from free
            on conflict (partition) do update set owner = excluded.owner, backend_pid = excluded.backend_pid, expires_at = excluded.expires_at
            where not ({Held})
            returning o.partition
            """, connection);
        Parameters(command.Parameters);
        command.Parameters.AddWithValue("partitions", MonitorPartitions.Count);
        command.Parameters.AddWithValue("count", count);
        var taken = new List<int>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) taken.Add(reader.GetInt32(0));
        return taken;
    }

    /// <summary>Lets <paramref name="partitions"/> go, for another instance to take at its next renewal.</summary>
    public async Task ReleaseAsync(IReadOnlyCollection<int> partitions, CancellationToken cancellationToken)
    {
        if (partitions.Count == 0) return;
        var connection = await ConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"delete from {Schema}.partition_owner where owner = @me and partition = any(@partitions)", connection);
        command.Parameters.AddWithValue("me", InstanceId);
        command.Parameters.AddWithValue("partitions", NpgsqlDbType.Array | NpgsqlDbType.Integer, partitions.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Which instance holds each held partition (for `show` and tests).</summary>
    public async Task<IReadOnlyDictionary<int, string>> HoldersAsync(CancellationToken cancellationToken)
    {
        // A pooled connection, not the renewals' one: this may run beside them.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"select o.partition, o.owner from {Schema}.partition_owner o where {Held}", connection);
        var holders = new Dictionary<int, string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) holders[reader.GetInt32(0)] = reader.GetString(1);
        return holders;
    }

    private NpgsqlBatchCommand Command(string sql)
    {
        var command = new NpgsqlBatchCommand(sql);
        Parameters(command.Parameters);
        return command;
    }

    private void Parameters(NpgsqlParameterCollection parameters)
    {
        parameters.AddWithValue("me", InstanceId);
        parameters.AddWithValue("lease", options.PartitionLease);
    }

    /// <summary>
    /// The dedicated connection, opened again after it broke (a store failover): the session is what others see alive.
    /// The tables are created on first use; several instances creating them at once may collide, and the loser's next
    /// renewal finds them.
    /// </summary>
    private async Task<NpgsqlConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (_connection is { State: System.Data.ConnectionState.Open } open) return open;
        if (_connection is not null) await _connection.DisposeAsync();
        _connection = null;
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            if (!_schemaReady)
            {
                // In the schema Marten made at start (or the operator made for a least-privileged role, which may not
                // run CREATE SCHEMA even with IF NOT EXISTS: docs/operations.md#least-privilege).
                await using var create = new NpgsqlCommand($"""
                    create table if not exists {Schema}.monitor_instance (
                        id text primary key, backend_pid int not null, expires_at timestamptz not null);
                    create table if not exists {Schema}.partition_owner (
                        partition int primary key, owner text not null, backend_pid int not null, expires_at timestamptz not null);
                    """, connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
                _schemaReady = true;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        _connection = connection;
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
    }
}

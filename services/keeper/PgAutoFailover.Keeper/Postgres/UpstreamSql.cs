using Npgsql;
using Npgsql.Replication;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>SQL on the node this one follows or clones from, as the replication role (TLS as the formation asks).</summary>
public static class UpstreamSql
{
    /// <summary>
    /// Waits until the upstream's last checkpoint is on its current timeline. pg_rewind reads the source's timeline
    /// from its control file, which a promotion updates only at the checkpoint PostgreSQL requests right after it; a
    /// rewind before that would find "the same timeline" and rewind nothing.
    /// </summary>
    public static async Task WaitCheckpointOnCurrentTimelineAsync(NodeAddress upstream, ReplicationLogin login, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var current = await UpstreamTimelineAsync(upstream, login, cancellationToken);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await using var c = new NpgsqlConnection(UpstreamConnectionString(upstream, login));
        await c.OpenAsync(cancellationToken);
        while (true)
        {
            await using var cmd = new NpgsqlCommand("SELECT timeline_id FROM pg_control_checkpoint()", c);
            if ((int)(await cmd.ExecuteScalarAsync(cancellationToken))! >= current) return;
            if (watch.Elapsed > timeout)
                throw new KeeperException($"the primary {upstream.Host}:{upstream.Port} has not checkpointed on timeline {current} within {timeout.TotalSeconds:F0} s");
            await Task.Delay(20, cancellationToken);
        }
    }

    public static string UpstreamConnectionString(NodeAddress upstream, ReplicationLogin login, string database = "postgres")
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = upstream.Host, Port = upstream.Port, Username = PgSql.ReplicationUser, Password = login.Password, Database = database,
            Pooling = false, Timeout = 5, CommandTimeout = 30,
        };
        login.Tls.ApplyTo(builder);
        return builder.ConnectionString;
    }

    /// <summary>Creates this node's physical slot on the upstream (the replication role may: it has REPLICATION). Idempotent.</summary>
    public static async Task EnsureSlotOnUpstreamAsync(NodeAddress upstream, ReplicationLogin login, string slot, CancellationToken cancellationToken)
    {
        await using var c = new NpgsqlConnection(UpstreamConnectionString(upstream, login));
        await c.OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand("""
            SELECT pg_create_physical_replication_slot($1, true)
             WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = $1)
               AND NOT pg_is_in_recovery()
            """, c);
        cmd.Parameters.Add(new NpgsqlParameter { Value = slot });
        try
        {
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateObject)
        {
            // Created concurrently: fine.
        }
    }

    /// <summary>IDENTIFY_SYSTEM on the upstream: its timeline (spec TimelineCheck).</summary>
    public static async Task<int> UpstreamTimelineAsync(NodeAddress upstream, ReplicationLogin login, CancellationToken cancellationToken)
    {
        await using var c = new PhysicalReplicationConnection(UpstreamConnectionString(upstream, login));
        await c.Open(cancellationToken);
        var system = await c.IdentifySystem(cancellationToken);
        return (int)system.Timeline;
    }
}

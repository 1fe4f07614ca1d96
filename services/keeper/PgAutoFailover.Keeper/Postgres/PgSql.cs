using Npgsql;
using Npgsql.Replication;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>What the keeper sees of its PostgreSQL in one cycle (docs/architecture.md#messages).</summary>
public sealed record PgObservation(
    bool Running,
    bool InRecovery,
    ulong Lsn,
    int Timeline,
    string ReplicationState,
    string? WalReceiverStatus,
    int ReceivedTimeline,
    string SynchronousStandbyNames,
    IReadOnlyList<StandbyReplication> Standbys)
{
    public static readonly PgObservation Down = new(false, false, 0, 0, "", null, 0, "", []);
}

/// <summary>One row of pg_stat_replication for a pgautofailover standby.</summary>
public sealed record StandbyReplication(string ApplicationName, string State, string SyncState, DateTimeOffset? ReplyTime, ulong FlushLsn);

/// <summary>SQL on the local PostgreSQL (superuser over the Unix socket) and on an upstream node (replication role).</summary>
public sealed class PgSql(PostgresServer server) : IDisposable
{
    public const string ReplicationUser = "pgautofailover_replicator";
    public const string HealthCheckUser = "pgautofailover_monitor";
    public const string SlotPrefix = "pgautofailover_standby_";

    public static string SlotName(long nodeId) => SlotPrefix + nodeId;

    // The keeper's own sessions to its PostgreSQL are pooled: a new connection forks a backend, about 9 ms here, and a
    // promotion or a switchover issues a dozen statements in a row on the write outage's critical path. A pool only
    // ever holds sessions of the postmaster it was filled from: when postmaster.pid names another process (or none:
    // stopped, crashed, restarted by anyone) the idle sessions are dropped before the next one is handed out.
    // The connection string is taken afresh for each postmaster: an adopted server listens on its own socket directory
    // until the keeper first restarts it on the keeper's (PostgresServer.LocalConnectionString).
    private NpgsqlDataSource? _pool;
    private readonly Lock _poolGate = new();
    private int? _poolPostmaster;
    private readonly List<NpgsqlDataSource> _retired = [];

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var postmaster = server.PostmasterPid();
        NpgsqlDataSource pool;
        lock (_poolGate)
        {
            if (_pool is null || postmaster != _poolPostmaster)
            {
                var connectionString = new NpgsqlConnectionStringBuilder(server.LocalConnectionString)
                {
                    Pooling = true, MaxPoolSize = 8, ConnectionIdleLifetime = 60, ApplicationName = "pgautofailover keeper",
                }.ConnectionString;
                if (_pool?.ConnectionString == connectionString)
                {
                    _pool.Clear();
                }
                else
                {
                    // Sessions in use finish on the old pool; it is disposed with them when the keeper stops.
                    if (_pool is not null) _retired.Add(_pool);
                    _pool = NpgsqlDataSource.Create(connectionString);
                }
                _poolPostmaster = postmaster;
            }
            pool = _pool;
        }
        return await pool.OpenConnectionAsync(cancellationToken);
    }

    public void Dispose()
    {
        lock (_poolGate)
        {
            _pool?.Dispose();
            foreach (var pool in _retired) pool.Dispose();
        }
    }

    /// <summary>
    /// Whether the running PostgreSQL answers a query on a pooled session. The actions ask this before nearly every
    /// step; a fresh session per question (PostgresServer.AcceptsQueriesAsync) forked a backend each time, 15-50 ms
    /// under a writer's reconnect storm, five of them on a switchover's critical path.
    /// </summary>
    public async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await ScalarAsync<int>("SELECT 1", cancellationToken) == 1;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return false;
        }
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand(sql, c);
        foreach (var p in parameters) cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<T?> ScalarAsync<T>(string sql, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand(sql, c);
        var v = await cmd.ExecuteScalarAsync(cancellationToken);
        return v is null or DBNull ? default : (T)v;
    }

    public async Task<PgObservation> ObserveAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        bool inRecovery; ulong lsn; int tli; string? wrStatus; int wrTli; string ssn;
        await using (var cmd = new NpgsqlCommand("""
            SELECT pg_is_in_recovery(),
                   pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery()
                                        THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
                                        ELSE pg_current_wal_flush_lsn() END, '0/0')::bigint,
                   (SELECT timeline_id FROM pg_control_checkpoint()),
                   (SELECT status FROM pg_stat_wal_receiver),
                   coalesce((SELECT received_tli FROM pg_stat_wal_receiver), 0),
                   current_setting('synchronous_standby_names')
            """, c))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            await r.ReadAsync(cancellationToken);
            inRecovery = r.GetBoolean(0);
            lsn = r.IsDBNull(1) ? 0 : (ulong)r.GetInt64(1);
            tli = r.IsDBNull(2) ? 0 : r.GetInt32(2);
            wrStatus = r.IsDBNull(3) ? null : r.GetString(3);
            wrTli = r.GetInt32(4);
            ssn = r.GetString(5);
        }
        var standbys = inRecovery ? [] : await StandbysAsync(c, cancellationToken);
        var best = standbys.Select(s => s.SyncState).OrderBy(Rank).FirstOrDefault() ?? "";
        // A standby says whether its WAL receiver streams: the monitor's lease wait starts when it stops.
        var replicationState = inRecovery ? wrStatus == "streaming" ? "streaming" : "disconnected" : best;
        return new PgObservation(true, inRecovery, lsn, ReportedTimeline(inRecovery, wrTli, tli), replicationState, wrStatus, wrTli, ssn, standbys);
    }

    /// <summary>
    /// docs/architecture.md#messages: a primary reports the timeline of its last checkpoint, a standby the WAL receiver's <c>received_tli</c>,
    /// and 0 (unknown: the monitor keeps the last one) when no receiver runs. Not the standby's checkpoint timeline: its
    /// last restartpoint can predate a timeline switch by minutes, and a standby that lost its primary (the election's
    /// moment) would look a timeline behind and lose to a less advanced node (seen on a live cluster: 2 instead of 3).
    /// </summary>
    public static int ReportedTimeline(bool inRecovery, int receivedTimeline, int checkpointTimeline) =>
        inRecovery ? receivedTimeline : checkpointTimeline;

    private static int Rank(string syncState) => syncState switch { "quorum" => 0, "sync" => 1, "potential" => 2, "async" => 3, _ => 4 };

    public async Task<IReadOnlyList<StandbyReplication>> StandbysAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        return await StandbysAsync(c, cancellationToken);
    }

    /// <summary>The pgautofailover standbys in pg_stat_replication, on an open connection (the observation's, or the watch's kept-open one).</summary>
    internal static async Task<IReadOnlyList<StandbyReplication>> StandbysAsync(NpgsqlConnection c, CancellationToken cancellationToken)
    {
        var list = new List<StandbyReplication>();
        await using var cmd = new NpgsqlCommand("""
            SELECT application_name, coalesce(state, ''), coalesce(sync_state, ''), reply_time,
                   coalesce(pg_wal_lsn_diff(flush_lsn, '0/0')::bigint, 0)
              FROM pg_stat_replication WHERE application_name LIKE 'pgautofailover_standby_%'
            """, c);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(new StandbyReplication(r.GetString(0), r.GetString(1), r.GetString(2),
                r.IsDBNull(3) ? null : r.GetFieldValue<DateTimeOffset>(3), (ulong)r.GetInt64(4)));
        }
        return list;
    }

    public async Task<ulong> CurrentFlushLsnAsync(CancellationToken cancellationToken) =>
        (ulong)(await ScalarAsync<long>("SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint", cancellationToken));

    public async Task<ulong> ReplayLsnAsync(CancellationToken cancellationToken) =>
        (ulong)(await ScalarAsync<long?>("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint", cancellationToken) ?? 0);

    public async Task<bool> InRecoveryAsync(CancellationToken cancellationToken) =>
        await ScalarAsync<bool>("SELECT pg_is_in_recovery()", cancellationToken);

    /// <summary>
    /// A promotion's progress, in one round trip per poll: whether the server is still in recovery, and whether its
    /// startup process sleeps out wal_retrieve_retry_interval (5 s by default). PostgreSQL 15 does so when a promotion
    /// request arrives just as its WAL receiver dies: it takes the request for a failed stream, sleeps, and promotes
    /// only when it wakes. A new request wakes it.
    /// </summary>
    public async Task<(bool InRecovery, bool StartupSleeps)> PromotionProgressAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand("""
            SELECT pg_is_in_recovery(),
                   EXISTS (SELECT 1 FROM pg_stat_activity
                           WHERE backend_type = 'startup' AND wait_event = 'RecoveryRetrieveRetryInterval')
            """, c);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        return (r.GetBoolean(0), r.GetBoolean(1));
    }

    /// <summary>ALTER SYSTEM SET (or RESET when null) and reload; waits until this session sees the new value.</summary>
    public async Task SetSystemAsync(string name, string? value, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var sql = value is null ? $"ALTER SYSTEM RESET {name}" : $"ALTER SYSTEM SET {name} = '{value.Replace("'", "''")}'";
        await using (var cmd = new NpgsqlCommand(sql, c)) await cmd.ExecuteNonQueryAsync(cancellationToken);
        await using (var cmd = new NpgsqlCommand("SELECT pg_reload_conf()", c)) await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The current value (as SHOW prints it) and the context (when a change takes effect) of each named setting that exists.</summary>
    public async Task<IReadOnlyDictionary<string, (string Value, string Context)>> SettingsAsync(IEnumerable<string> names, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT name, current_setting(name), context FROM pg_settings WHERE name = ANY($1)", c);
        cmd.Parameters.Add(new NpgsqlParameter { Value = names.ToArray() });
        var settings = new Dictionary<string, (string, string)>(StringComparer.OrdinalIgnoreCase);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken)) settings[r.GetString(0)] = (r.GetString(1), r.GetString(2));
        return settings;
    }

    public async Task<string> ShowAsync(string name, CancellationToken cancellationToken) =>
        await ScalarAsync<string>($"SELECT current_setting('{name}')", cancellationToken) ?? "";

    /// <summary>Waits until a fresh session sees <paramref name="name"/> = <paramref name="expected"/> (reload is asynchronous).</summary>
    /// <summary>
    /// Until a new session sees <paramref name="name"/> = <paramref name="expected"/> (a reload reaches the postmaster
    /// within milliseconds: look again after 5 ms, then less and less often, for about 5 s in all).
    /// </summary>
    public async Task WaitForSettingAsync(string name, string expected, CancellationToken cancellationToken)
    {
        var delay = 5;
        for (var waited = 0; waited < 5000; waited += delay, delay = Math.Min(delay * 2, 100))
        {
            if (await ShowAsync(name, cancellationToken) == expected) return;
            await Task.Delay(delay, cancellationToken);
        }
        if (await ShowAsync(name, cancellationToken) == expected) return;
        throw new KeeperException($"{name} did not become '{expected}' after reload");
    }

    public Task CheckpointAsync(CancellationToken cancellationToken) => ExecuteAsync("CHECKPOINT", cancellationToken);

    /// <summary>Asks the startup process to promote (pg_promote without waiting); false when the function refused.</summary>
    public async Task<bool> RequestPromotionAsync(CancellationToken cancellationToken) =>
        await ScalarAsync<bool>("SELECT pg_promote(false)", cancellationToken);

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

    /// <summary>The replication and health-check roles (services/keeper/README.md), with scram passwords unless trust was asked for.</summary>
    public async Task EnsureRolesAsync(string replicationPassword, string? healthCheckPassword, CancellationToken cancellationToken)
    {
        await ExecuteAsync($"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ReplicationUser}') THEN
                CREATE ROLE {ReplicationUser} WITH LOGIN REPLICATION;
              END IF;
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{HealthCheckUser}') THEN
                CREATE ROLE {HealthCheckUser} WITH LOGIN CONNECTION LIMIT 2;
              END IF;
            END $$;
            SET password_encryption = 'scram-sha-256';
            ALTER ROLE {ReplicationUser} WITH LOGIN REPLICATION PASSWORD '{replicationPassword.Replace("'", "''")}';
            ALTER ROLE {HealthCheckUser} WITH LOGIN {(healthCheckPassword is null ? "PASSWORD NULL" : $"PASSWORD '{healthCheckPassword.Replace("'", "''")}'")};
            GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO {ReplicationUser};
            GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO {ReplicationUser};
            GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO {ReplicationUser};
            GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO {ReplicationUser};
            """, cancellationToken);
    }

    /// <summary>
    /// The application role (LOGIN, scram password) and its database, created when missing; an existing role gets the
    /// configured password, an existing database is left as it is (its owner too). Run on a primary; both replicate.
    /// </summary>
    public async Task EnsureApplicationRoleAsync(string user, string password, string database, CancellationToken cancellationToken)
    {
        var role = QuoteIdentifier(user);
        await ExecuteAsync($"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {QuoteLiteral(user)}) THEN
                CREATE ROLE {role} WITH LOGIN;
              END IF;
            END $$;
            SET password_encryption = 'scram-sha-256';
            ALTER ROLE {role} WITH LOGIN PASSWORD {QuoteLiteral(password)};
            """, cancellationToken);
        if (database == "postgres") return;
        var exists = await ScalarAsync<bool>($"SELECT EXISTS (SELECT FROM pg_database WHERE datname = {QuoteLiteral(database)})", cancellationToken);
        // CREATE DATABASE cannot run inside the DO block's transaction.
        if (!exists) await ExecuteAsync($"CREATE DATABASE {QuoteIdentifier(database)} OWNER {role}", cancellationToken);
    }

    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    public static string QuoteLiteral(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    public async Task DropAllSlotsAsync(CancellationToken cancellationToken) =>
        await ExecuteAsync($"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '{SlotPrefix}%' AND NOT active",
            cancellationToken);

    private const string SlotsOfRemovedNodes = $"""
        SELECT slot_name::text AS slot_name FROM pg_replication_slots
         WHERE slot_type = 'physical' AND NOT active
           AND slot_name ~ '^{SlotPrefix}[0-9]+$'
           AND slot_name <> ALL($1::text[])
        """;

    /// <summary>
    /// The inactive physical slots named <c>pgautofailover_standby_&lt;id&gt;</c> whose id is not in
    /// <paramref name="groupNodeIds"/> (nodes removed from the group); slots with other names never appear. One query.
    /// </summary>
    public async Task<IReadOnlyList<string>> SlotsOfRemovedNodesAsync(IReadOnlyList<long> groupNodeIds, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand(SlotsOfRemovedNodes, c);
        return await ReadNamesAsync(cmd, groupNodeIds, null, cancellationToken);
    }

    /// <summary>
    /// Drops those of <paramref name="slots"/> that are still slots of removed nodes (inactive, id not in
    /// <paramref name="groupNodeIds"/>), in one statement; returns the names dropped. A slot that became active (or
    /// was dropped) meanwhile is left for the next cycle.
    /// </summary>
    public async Task<IReadOnlyList<string>> DropSlotsOfRemovedNodesAsync(IReadOnlyList<long> groupNodeIds, IReadOnlyList<string> slots,
        CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        // MATERIALIZED: the drop runs only on rows that passed every filter (the planner may reorder WHERE clauses).
        await using var cmd = new NpgsqlCommand($"""
            WITH stale AS MATERIALIZED ({SlotsOfRemovedNodes} AND slot_name = ANY($2::text[]))
            SELECT slot_name, pg_drop_replication_slot(slot_name::name) FROM stale
            """, c);
        try
        {
            return await ReadNamesAsync(cmd, groupNodeIds, slots, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.ObjectInUse or PostgresErrorCodes.UndefinedObject)
        {
            return []; // a slot got a walsender (or was dropped) between the scan and the drop: next cycle decides again
        }
    }

    private static async Task<IReadOnlyList<string>> ReadNamesAsync(NpgsqlCommand cmd, IReadOnlyList<long> groupNodeIds, IReadOnlyList<string>? slots,
        CancellationToken cancellationToken)
    {
        cmd.Parameters.Add(new NpgsqlParameter { Value = groupNodeIds.Select(SlotName).ToArray() });
        if (slots is not null) cmd.Parameters.Add(new NpgsqlParameter { Value = slots.ToArray() });
        var names = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) names.Add(reader.GetString(0));
        return names;
    }

    public static string UpstreamConnectionString(NodeAddress upstream, ReplicationLogin login, string database = "postgres")
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = upstream.Host, Port = upstream.Port, Username = ReplicationUser, Password = login.Password, Database = database,
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

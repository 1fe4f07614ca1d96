using Npgsql;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>SQL on the local PostgreSQL (superuser over the Unix socket); <see cref="UpstreamSql"/> is SQL on the node this one follows.</summary>
public sealed partial class PgSql(PostgresServer server) : IDisposable
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
}

using PgAutoFailover.Contracts;
namespace PgAutoFailover.Keeper;

/// <summary>
/// Keeper settings, bound from the "Keeper" configuration section (appsettings, environment
/// variables Keeper__Port=…, or the command line). Defaults are written beside each setting.
/// <para><b>Lease and fencing.</b> The monitor grants a lease of length L (1.5 s by default) with
/// every reply to a writable node; the keeper counts it from the moment it sent the report, on its
/// monotonic clock, so the keeper's expiry (send + L) is never later than the monitor's (receive + L).
/// A writer reports every L/3, so a healthy primary always holds a lease. After expiry the keeper fences
/// (stops writes, then PostgreSQL) unless a standby's reply_time advanced within the last L. The check
/// runs every <see cref="FenceCheckPeriod"/> (100 ms) and stopping writes takes one SQL round trip, so
/// the old primary accepts no write later than max(lease expiry, last standby reply + L) + 2 check
/// periods + that round trip; the monitor's LeaseSafetyMargin (500 ms) covers it. The same watch tells
/// a standby's keeper within one check period that its WAL receiver stopped, and it reports at once:
/// that report starts the monitor's count. docs/failover-timing.md tells the whole argument.</para>
/// </summary>
public sealed class KeeperOptions : ServiceDefaults.IOptionsWithProblems
{
    public const string Section = "Keeper";

    /// <summary>PostgreSQL data directory (required).</summary>
    public string PgData { get; set; } = "";
    /// <summary>Where the keeper keeps its state file, passwords and the PostgreSQL socket; default "&lt;pgdata&gt;.keeper" beside the data directory (never inside: a base backup replaces it).</summary>
    public string? StateDirectory { get; set; }
    /// <summary>PostgreSQL port. Default 5432.</summary>
    public int Port { get; set; } = 5432;
    /// <summary>Host name or address the other nodes and applications use for this node. Default 127.0.0.1.</summary>
    public string Host { get; set; } = "127.0.0.1";
    /// <summary>listen_addresses; default: <see cref="Host"/>.</summary>
    public string? ListenAddresses { get; set; }
    public string Formation { get; set; } = "default";
    /// <summary>Requested group; null lets the monitor choose.</summary>
    public int? GroupId { get; set; }
    /// <summary>Requested node name; null lets the monitor name it node_&lt;id&gt;.</summary>
    public string? Name { get; set; }
    /// <summary>Requested node id; null lets the monitor assign one.</summary>
    public long? NodeId { get; set; }
    /// <summary>0..100; 0 is never promoted. Default 50.</summary>
    public int CandidatePriority { get; set; } = 50;
    /// <summary>Whether the node counts in synchronous_standby_names. Default true.</summary>
    public bool ReplicationQuorum { get; set; } = true;
    /// <summary>Application database (pg_autoctl's --dbname), created by the first primary when missing. Default postgres.</summary>
    public string DatabaseName { get; set; } = "postgres";
    /// <summary>
    /// Application role (pg_autoctl's --username): the first primary creates it (LOGIN, scram-sha-256 password) and makes it
    /// the owner of <see cref="DatabaseName"/> when it creates that; pg_hba admits it from <see cref="ClientHosts"/>, always
    /// with a password. Empty (default): no application role, applications bring their own.
    /// </summary>
    public string? ApplicationUser { get; set; }
    /// <summary>Password of <see cref="ApplicationUser"/>; prefer <see cref="ApplicationPasswordFile"/>, which keeps it out of the environment.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public string? ApplicationPassword { get; set; }
    /// <summary>File whose first line is the password of <see cref="ApplicationUser"/> (a Docker secret, a file of mode 0600).</summary>
    public string? ApplicationPasswordFile { get; set; }
    /// <summary>Hosts or CIDRs admitted in pg_hba for <see cref="ApplicationUser"/> (the application servers). Default: the group hosts.</summary>
    public List<string> ClientHosts { get; set; } = [];
    /// <summary>Directory of the PostgreSQL 15 binaries; default: pg_config --bindir, then PATH, then /usr/lib/postgresql/15/bin.</summary>
    public string? PgBinDir { get; set; }
    /// <summary>OS user that runs PostgreSQL when the keeper runs as root. Default postgres.</summary>
    public string OsUser { get; set; } = "postgres";
    /// <summary>
    /// Authentication of the replication and health-check roles: scram-sha-256 (default, generated
    /// passwords) or trust (only when asked for, e.g. in tests).
    /// </summary>
    public string AuthMethod { get; set; } = "scram-sha-256";
    /// <summary>Hosts or CIDRs of the group's other nodes, admitted in pg_hba for replication; this node's own <see cref="Host"/> is always added.</summary>
    public List<string> GroupHosts { get; set; } = [];
    /// <summary>Hosts or CIDRs of the health checkers, admitted for the pgautofailover_monitor role. Default: the group hosts.</summary>
    public List<string> HealthCheckHosts { get; set; } = [];
    /// <summary>Replication password shared by the group. When empty, read from <see cref="ReplicationPasswordFile"/>, generated there on first need.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public string? ReplicationPassword { get; set; }
    /// <summary>
    /// Password of the health-check role (pgautofailover_monitor). The health-checkers log in with one password
    /// for every node, so pass the same value here and to them (HealthChecker:Password). When empty, one is
    /// generated into the password file (then give that to the health-checkers).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore] public string? HealthCheckPassword { get; set; }
    /// <summary>File with the group's replication password (mode 0600, owned by the PostgreSQL user). Default &lt;state dir&gt;/replication.password.</summary>
    public string? ReplicationPasswordFile { get; set; }
    /// <summary>
    /// TLS for every TCP connection to this node: replication, health probes, applications (docs/operations.md#tls). Default
    /// true: PostgreSQL serves a self-signed certificate the keeper makes (pg_autoctl's --ssl-self-signed), pg_hba admits
    /// remote clients over TLS only, and this node's own connections to its upstream use sslmode=require. False
    /// (--no-ssl): plain text, passwords and data readable on the network.
    /// </summary>
    public bool Ssl { get; set; } = true;
    /// <summary>CA certificate (PEM) that signed every node's certificate; with it, connections to the upstream use verify-full.</summary>
    public string? SslCaFile { get; set; }
    /// <summary>This node's certificate (PEM), issued for <see cref="Host"/>; with <see cref="ServerKeyFile"/>, used instead of a self-signed one.</summary>
    public string? ServerCertFile { get; set; }
    /// <summary>Private key of <see cref="ServerCertFile"/> (PEM), readable by the PostgreSQL user only (mode 0600).</summary>
    public string? ServerKeyFile { get; set; }
    /// <summary>Extra PostgreSQL settings put on the postgres command line (name=value), e.g. fsync=off in tests.</summary>
    public List<string> ExtraSettings { get; set; } = [];
    /// <summary>Pass --no-sync to initdb, pg_basebackup and pg_rewind (tests only). Default false.</summary>
    public bool NoSync { get; set; }

    /// <summary>Loop period: observe, report, act. Default 1 s (PG_AUTOCTL_KEEPER_SLEEP_TIME).</summary>
    public TimeSpan LoopPeriod { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>How long a ReportNodeState request waits for its NodeGoal. Default 2 s (spec: connect timeout 2 s).</summary>
    public TimeSpan MonitorTimeout { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>How long RegisterNode waits. Default 30 s.</summary>
    public TimeSpan RegisterTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How often the watch samples PostgreSQL (one query on a kept-open connection): the lease check on a writer, the
    /// WAL receiver on a standby. Default 100 ms. The monitor's LeaseSafetyMargin must cover two of these periods.
    /// </summary>
    public TimeSpan FenceCheckPeriod { get; set; } = TimeSpan.FromMilliseconds(100);
    /// <summary>Bound on the fast shutdown that fences PostgreSQL; after it, immediate shutdown. Default 2 s.</summary>
    public TimeSpan FenceTimeout { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>
    /// How often the host names of the keeper's pg_hba block are looked up again (docs/operations.md#host-names-in-pg_hba):
    /// a node whose address changed under the same name is admitted by address within this long, and by name (a reverse
    /// DNS lookup per connection) until then. Default 30 s.
    /// </summary>
    public TimeSpan HostResolvePeriod { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Bound on one name's lookup; a slower answer keeps the addresses known before. Default 2 s.</summary>
    public TimeSpan HostResolveTimeout { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>How long a start may take before it is an error. Default 60 s.</summary>
    public TimeSpan PostgresStartTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>How long a stop may take. Default 60 s.</summary>
    public TimeSpan PostgresStopTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Bound on pg_basebackup and pg_rewind. Default 1 h.</summary>
    public TimeSpan CloneTimeout { get; set; } = TimeSpan.FromHours(1);
    /// <summary>
    /// Failover damping (docs/states.md#health): a primary whose PostgreSQL is found down goes on reporting it as running while
    /// the keeper restarts it, until this long after the first failure. Default 20 s
    /// (timeout.postgresql_restart_failure_timeout).
    /// </summary>
    public TimeSpan PostgresRestartFailureTimeout { get; set; } = TimeSpan.FromSeconds(20);
    /// <summary>… or until this many restart attempts in a row have failed. Default 3 (timeout.postgresql_restart_failure_max_retries).</summary>
    public int PostgresRestartFailureMaxRetries { get; set; } = 3;
    /// <summary>pg_basebackup --max-rate. Default 100M (spec).</summary>
    public string MaximumBackupRate { get; set; } = "100M";
    /// <summary>
    /// PostgreSQL gets an immediate shutdown within 0.2 s of the end of the keeper's lease once the keeper process is
    /// dead (kill -9, crash): a dead keeper cannot enforce the lease, so the monitor's "lease expired ⇒ fenced" only
    /// holds if PostgreSQL does not outlive its keeper's lease. A keeper restarted within the lease takes the server
    /// over (Postgres/LeaseFile). Default true; false leaves it running (pg_autoctl's behaviour).
    /// </summary>
    public bool PostgresDiesWithKeeper { get; set; } = true;
    /// <summary>Stop PostgreSQL when the keeper stops (pg_autoctl stop does). Default true.</summary>
    public bool StopPostgresOnExit { get; set; } = true;

    /// <summary>Register with the monitor when there is no state file yet (keeper create).</summary>
    [System.Text.Json.Serialization.JsonIgnore] public bool Create { get; set; }
    /// <summary>With <see cref="Create"/>: stop the keeper once the first assigned state is reached (create without --run).</summary>
    [System.Text.Json.Serialization.JsonIgnore] public bool ExitAfterCreate { get; set; }

    /// <summary>File where create records the node's settings, so that run needs only --pgdata.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public string SettingsFile => Path.Combine(ResolvedStateDirectory, "keeper.settings.json");
    [System.Text.Json.Serialization.JsonIgnore] public string ResolvedStateDirectory => StateDirectory is { Length: > 0 } d ? d : Path.GetFullPath(PgData).TrimEnd('/') + ".keeper";
    [System.Text.Json.Serialization.JsonIgnore] public string StateFile => Path.Combine(ResolvedStateDirectory, "keeper.state");
    [System.Text.Json.Serialization.JsonIgnore] public string SocketDirectory => ResolvedStateDirectory;
    [System.Text.Json.Serialization.JsonIgnore] public string LogFile => Path.Combine(ResolvedStateDirectory, "postgres.log");
    [System.Text.Json.Serialization.JsonIgnore] public string PasswordFile => ReplicationPasswordFile is { Length: > 0 } f ? f : Path.Combine(ResolvedStateDirectory, "replication.password");
    [System.Text.Json.Serialization.JsonIgnore] public bool Trust => string.Equals(AuthMethod, "trust", StringComparison.OrdinalIgnoreCase);

    /// <summary>What is wrong with these settings (docs/operations.md#settings), checked once at start: one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(PgData)) yield return "Keeper:PgData (--pgdata) is required";
        string?[] rules =
        [
            SettingRules.Named("Keeper:Port (--port)", MessageRules.Port(Port)),
            SettingRules.Named("Keeper:Host (--hostname)", MessageRules.Host(Host)),
            SettingRules.Named("Keeper:Formation (--formation)", MessageRules.Formation(Formation)),
            SettingRules.Named("Keeper:GroupId (--group)", MessageRules.Group(GroupId)),
            SettingRules.Named("Keeper:Name (--name)", MessageRules.NodeName(Name)),
            NodeId is { } id ? SettingRules.Named("Keeper:NodeId", MessageRules.NodeId(id)) : null,
            SettingRules.Named("Keeper:CandidatePriority (--candidate-priority)", MessageRules.Priority(CandidatePriority)),
            SettingRules.Named("Keeper:DatabaseName (--dbname)", MessageRules.DatabaseName(DatabaseName)),
            Trust || string.Equals(AuthMethod, "scram-sha-256", StringComparison.OrdinalIgnoreCase) ? null : $"Keeper:AuthMethod (--auth) is \"{AuthMethod}\": it must be scram-sha-256 or trust",
            ApplicationUser is { Length: > 0 } && ApplicationPassword is not { Length: > 0 } && ApplicationPasswordFile is not { Length: > 0 }
                ? "Keeper:ApplicationUser (--username) needs a password: set Keeper:ApplicationPassword or Keeper:ApplicationPasswordFile (--password-file)"
                : null,
            SettingRules.Duration("Keeper:LoopPeriod", LoopPeriod),
            SettingRules.Duration("Keeper:MonitorTimeout", MonitorTimeout),
            SettingRules.Duration("Keeper:RegisterTimeout", RegisterTimeout),
            SettingRules.Duration("Keeper:FenceCheckPeriod", FenceCheckPeriod),
            SettingRules.Duration("Keeper:FenceTimeout", FenceTimeout),
            SettingRules.Duration("Keeper:HostResolvePeriod", HostResolvePeriod),
            SettingRules.Duration("Keeper:HostResolveTimeout", HostResolveTimeout),
            SettingRules.Duration("Keeper:PostgresStartTimeout", PostgresStartTimeout),
            SettingRules.Duration("Keeper:PostgresStopTimeout", PostgresStopTimeout),
            SettingRules.Duration("Keeper:CloneTimeout", CloneTimeout),
            SettingRules.Duration("Keeper:PostgresRestartFailureTimeout", PostgresRestartFailureTimeout, zeroAllowed: true),
            SettingRules.Between("Keeper:PostgresRestartFailureMaxRetries", PostgresRestartFailureMaxRetries, 0, 1000),
        ];
        foreach (var problem in rules)
        {
            if (problem is not null) yield return problem;
        }
        foreach (var problem in Postgres.NodeTls.Problems(this)) yield return problem;
    }
}

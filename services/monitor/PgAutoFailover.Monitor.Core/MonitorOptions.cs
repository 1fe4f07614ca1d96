namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// Every timeout and threshold the decision core uses, with its default beside it.
/// Defaults aim at design.md §6: a dead primary is detected in about 3 s and a new primary
/// takes writes about 5 s after the crash, against pg_auto_failover's 20 s + 30 s.
/// </summary>
public sealed record MonitorOptions
{
    /// <summary>Health-checker probe period. Default 1 s (pgaf: 5 s). Used by the health-checker; recorded here so one file holds every timing.</summary>
    public TimeSpan ProbePeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Connect timeout of one probe. Default 800 ms: a probe ends before the next one starts (pgaf: 5 s).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(800);

    /// <summary>Consecutive failed probes before a node's health is marked bad. Default 3 (pgaf: 1 + 2 retries), so about 3 s at a 1 s period.</summary>
    public int ProbeFailuresBeforeUnhealthy { get; init; } = 3;

    /// <summary>
    /// A keeper silent for this long is "not reporting" (spec §2.2.2 Reporting, strict &lt;). Default 3 s
    /// (pgaf: 20 s): a keeper reports every second, so 3 s is two lost reports plus jitter. Together with
    /// three failed probes this detects a dead host in about 3 s.
    /// </summary>
    public TimeSpan KeeperSilenceTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// After the monitor (re)starts, probe failures do not make a node unhealthy for this long
    /// (spec startup_grace_period). Default 5 s (pgaf: 10 s): long enough for a full round of probes and reports.
    /// </summary>
    public TimeSpan StartupGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A keeper report younger than this, and newer than the last probe, overrides a bad probe verdict
    /// (spec §2.2.2 Healthy exception, [main] PR #1141). Default 1 s, one keeper period.
    /// </summary>
    public TimeSpan FreshReportWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Length L of the primary's write lease (design.md §4.3), handed out with every goal reply to a node
    /// whose goal is writable. Default 2 s: two keeper periods, so one lost reply does not fence a healthy primary.
    /// </summary>
    public TimeSpan PrimaryLease { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Safety margin added after the old primary's lease before a candidate may accept writes. Default 1 s.
    /// <para>Safety argument (design.md §4.3). The keeper starts its lease at the moment it SENT the report; the
    /// monitor records the grant at the moment it RECEIVED it, which is later, so on a perfect clock the
    /// keeper's expiry is never later than the monitor's. The keeper then fences when the lease has expired
    /// and no synchronous standby replied within L. The monitor therefore waits until
    /// max(last grant + L, moment the candidate stopped replicating + L) + margin, where the margin covers:</para>
    /// <list type="bullet">
    /// <item>the keeper's lease check period (it notices expiry at its next check): 500 ms;</item>
    /// <item>the time to fence (stop accepting writes: read-only + terminate backends, then stop): 300 ms;</item>
    /// <item>clock-rate drift between monitor and keeper over the ~3 s interval: even 1 % is 30 ms; 200 ms left as slack.</item>
    /// </list>
    /// Raise it if keepers check their lease less often or fencing is slower.
    /// </summary>
    public TimeSpan LeaseSafetyMargin { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a primary assigned demote_timeout (or draining) is given to confirm before it is presumed dead
    /// (spec primary_demote_timeout, default there 30 s). Default 3 s. Presuming it dead is only allowed once its
    /// lease is also provably over (see <see cref="LeaseSafetyMargin"/>): this timeout is patience, the lease is safety.
    /// </summary>
    public TimeSpan DemoteTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Max LSN distance for catchingup → secondary (enable_sync_wal_log_threshold). Default 16 MB, one WAL segment.</summary>
    public ulong EnableSyncWalThreshold { get; init; } = 16UL * 1024 * 1024;

    /// <summary>Max LSN distance between a failover candidate and the primary's last LSN (promote_wal_log_threshold). Default 16 MB.</summary>
    public ulong PromoteWalThreshold { get; init; } = 16UL * 1024 * 1024;

    /// <summary>
    /// [main] replication_stall_timeout: a healthy primary reporting no connected standby this long goes
    /// wait_primary so commits stop waiting. Default 10 s (as upstream): longer than a standby restart.
    /// </summary>
    public TimeSpan ReplicationStallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Defaults.</summary>
    public static MonitorOptions Default { get; } = new();
}

using PgAutoFailover.Contracts;

namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// Every timeout and threshold the decision core uses, with its default beside it.
/// Defaults aim at a new primary taking writes within about 2.5 s of a crash (detection in 1-1.5 s, the lease
/// L + margin = 2 s after the old primary was last heard of), against pg_auto_failover's 20 s + 30 s.
/// docs/failover-timing.md walks through a failover step by step with the setting behind each step.
/// </summary>
public sealed record MonitorOptions
{
    /// <summary>Health-checker probe period. Default 1 s (pgaf: 5 s). Used by the health-checker; recorded here so one file holds every timing.</summary>
    public TimeSpan ProbePeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Connect timeout of one probe. Default 800 ms: a probe ends before the next one starts (pgaf: 5 s).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(800);

    /// <summary>
    /// Consecutive failed probes before a node's health is marked bad. Default 3 (pgaf: 1 + 2 retries). The health-checker
    /// probes a failing node again every HealthChecker:FailingProbePeriod (250 ms), so three failures take about 0.5 s
    /// after the first one instead of two more probe periods.
    /// </summary>
    public int ProbeFailuresBeforeUnhealthy { get; init; } = 3;

    /// <summary>
    /// A keeper silent for this long is "not reporting" (docs/states.md#health Reporting, strict &lt;). Default 2 s
    /// (pgaf: 20 s): a standby's keeper reports every second, so 2 s is one lost report plus jitter (a writer's,
    /// renewing its lease every L/3, counts as silent after a whole lease, see HealthPredicates.IsReporting).
    /// It must not exceed <see cref="PrimaryLease"/> + <see cref="LeaseSafetyMargin"/>: a quorum standby that last
    /// said it streams and then went silent may still stream (and keep the old primary serving) after that
    /// window, and only its silence stops the monitor from taking the primary as fenced (Lease.FencedAt).
    /// </summary>
    public TimeSpan KeeperSilenceTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// After the monitor (re)starts, probe failures do not make a node unhealthy for this long
    /// (spec startup_grace_period). Default 5 s (pgaf: 10 s): long enough for a full round of probes and reports.
    /// </summary>
    public TimeSpan StartupGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A keeper report younger than this, and newer than the last probe, overrides a bad probe verdict
    /// (docs/states.md#health Healthy exception, [main] PR #1141). Default 1 s, one keeper period.
    /// </summary>
    public TimeSpan FreshReportWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Length L of the primary's write lease (see <see cref="Lease"/>), handed out with every goal reply to a
    /// node whose goal is writable. Default 1.5 s. A keeper holding a lease renews it every L/3 (0.5 s), so two lost
    /// renewals do not fence a healthy primary; L is also the window in which a standby's reply keeps a primary
    /// serving without the monitor, and standbys reply at least every second (wal_receiver_status_interval=1s), so
    /// L must stay above 1 s plus the keeper's check period. Shorter: a faster failover after a crash (the candidate
    /// waits L + margin after the old primary was last heard of); longer: more tolerance of a slow monitor or broker.
    /// </summary>
    public TimeSpan PrimaryLease { get; init; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>
    /// Safety margin added after the old primary's lease before a candidate may accept writes. Default 500 ms.
    /// <para>Safety argument. The keeper starts its lease at the moment it SENT the report; the monitor records the
    /// grant at the moment it RECEIVED it, which is later, so on a perfect clock the keeper's expiry is never later
    /// than the monitor's. The keeper fences when the lease has expired and no standby replied within L. A standby's
    /// keeper watches its WAL receiver every 100 ms and reports at once when it stops streaming; the monitor counts
    /// "stopped replicating" from the arrival of that report, which is after the standby's last reply was sent. The
    /// monitor therefore waits until max(last grant + L, moment the candidate stopped replicating + L) + margin,
    /// where the margin covers:</para>
    /// <list type="bullet">
    /// <item>the primary's keeper sees a reply at its next check, up to one check period (100 ms) after it came,
    /// and so may count from a later moment: 100 ms;</item>
    /// <item>it notices an expiry at its next check: 100 ms;</item>
    /// <item>the time to stop accepting writes (read-only, client sessions terminated): about 50 ms on an idle box,
    /// 200 ms allowed;</item>
    /// <item>clock-rate drift between monitor and keeper over the ~2 s interval: even 1 % is 20 ms; 100 ms slack.</item>
    /// </list>
    /// Raise it with the keeper's check period (Keeper:FenceCheckPeriod) or on machines where fencing is slower.
    /// A keeper stalled for longer than the margin (a frozen VM) can outlive its lease: no lease design avoids that,
    /// which is why PostgreSQL is also stopped once its keeper is dead and the lease is over (Keeper:PostgresDiesWithKeeper).
    /// </summary>
    public TimeSpan LeaseSafetyMargin { get; init; } = TimeSpan.FromMilliseconds(500);

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

    /// <summary>
    /// SYNC-ACK-STALL: a primary whose oldest WAL has waited this long for a standby's flush (every commit waits as
    /// long) goes wait_primary and its quorum secondaries catchingup, with number_sync_standbys = 0 only. Default 2 s:
    /// a standby on a sound link flushes within milliseconds, and a cut link reads "streaming" for wal_sender_timeout (5 s).
    /// </summary>
    public TimeSpan SyncAckTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Defaults.</summary>
    public static MonitorOptions Default { get; } = new();

    /// <summary>What is wrong with these timings (docs/operations.md#settings), one sentence each; <paramref name="section"/> prefixes the names.</summary>
    public IEnumerable<string> Problems(string section = "Monitor:Core")
    {
        string?[] rules =
        [
            SettingRules.Duration($"{section}:ProbePeriod", ProbePeriod),
            SettingRules.Duration($"{section}:ProbeTimeout", ProbeTimeout),
            SettingRules.Between($"{section}:ProbeFailuresBeforeUnhealthy", ProbeFailuresBeforeUnhealthy, 1, 1000),
            SettingRules.Duration($"{section}:KeeperSilenceTimeout", KeeperSilenceTimeout),
            SettingRules.Duration($"{section}:StartupGracePeriod", StartupGracePeriod, zeroAllowed: true),
            SettingRules.Duration($"{section}:FreshReportWindow", FreshReportWindow),
            SettingRules.Duration($"{section}:PrimaryLease", PrimaryLease),
            SettingRules.Duration($"{section}:LeaseSafetyMargin", LeaseSafetyMargin, zeroAllowed: true),
            SettingRules.Duration($"{section}:DemoteTimeout", DemoteTimeout),
            SettingRules.Duration($"{section}:ReplicationStallTimeout", ReplicationStallTimeout),
            SettingRules.Duration($"{section}:SyncAckTimeout", SyncAckTimeout),
        ];
        return rules.OfType<string>();
    }
}

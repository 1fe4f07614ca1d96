using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;

namespace PgAutoFailover.Monitor;

/// <summary>Bound from the "Monitor" section. The decision timings live in <see cref="Core"/> ("Monitor:Core").</summary>
public sealed class MonitorServiceOptions : ServiceDefaults.IOptionsWithProblems
{
    public const string Section = "Monitor";

    /// <summary>Timeouts and thresholds of the state machine; defaults in <see cref="MonitorOptions"/>.</summary>
    public MonitorOptions Core { get; set; } = MonitorOptions.Default;

    /// <summary>How often every group is re-evaluated without any report, so a dead group still fails over. Default 500 ms: half the probe period.</summary>
    public TimeSpan TimerPeriod { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the latest liveness of each node (report time, LSN, probe counters) is written to the store. Default 1 s.</summary>
    public TimeSpan LivenessFlushPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A snapshot of a group is stored every this many events, so a restart replays only the tail. Default 200.</summary>
    public int SnapshotEvery { get; set; } = 200;

    /// <summary>
    /// Check the group's stream version in the store before each decision and reload when another monitor
    /// instance wrote since (one indexed read). Default true. Skipped anyway while this instance is the only live one
    /// and holds the group's partition, as of a renewal less than two renew periods old (<see cref="Groups.SoleHolder"/>).
    /// </summary>
    public bool VerifyStreamVersion { get; set; } = true;

    /// <summary>
    /// Keeper reports and probes handled at once by an instance holding every partition: each partition's endpoint takes
    /// this divided by the partitions (16 each by default; prefetch and concurrency limit), so an instance holding a
    /// third of them handles a third as many. Default 256: a trigger mostly waits on the store and the broker, order
    /// within a group is kept by the group's gate; 128 for each of reports and probes served 1,000 nodes best on 2 cores,
    /// and eight times that (128 per partition) made 200 nodes' round trips ten times slower (see bench/ monitor).
    /// </summary>
    public int TriggerConcurrency { get; set; } = 256;

    /// <summary>What each partition's endpoint takes at once: <see cref="TriggerConcurrency"/> shared by the partitions, at least 1.</summary>
    public int PartitionConcurrency => Math.Max(1, (TriggerConcurrency + MonitorPartitions.Count - 1) / MonitorPartitions.Count);

    /// <summary>Name of the formation created at start-up. Default "default", as pg_auto_failover.</summary>
    public string DefaultFormation { get; set; } = "default";

    /// <summary>
    /// How often stored events that no monitor has published are looked for, and how old they must be (a live monitor
    /// deletes its own within milliseconds of storing them). Default 5 s; a restarted monitor looks at once.
    /// </summary>
    public TimeSpan OutboxRelayPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often this instance renews its hold on its partitions and rebalances them with the other live instances
    /// (docs/architecture.md#groups-spread-over-monitors). Default 500 ms: a dead instance's partitions (its store
    /// session gone) are taken within this, a joining instance gets its share within this.
    /// </summary>
    public TimeSpan PartitionRenewPeriod { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long a hold on a partition lasts without renewal: the takeover time for an instance that hangs with its store
    /// session open (paused, or cut from the store but not from its clients). Default 3 s; at least two renew periods.
    /// </summary>
    public TimeSpan PartitionLease { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Tests only (docs/events.md#delivery): kill this process right after storing a decision with an event of this type, before anything is published.</summary>
    public string? FaultKillAfterStoring { get; set; }

    /// <summary>What is wrong with these settings and <see cref="Core"/>'s (docs/operations.md#settings), one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        string?[] rules =
        [
            SettingRules.Duration("Monitor:TimerPeriod", TimerPeriod),
            SettingRules.Duration("Monitor:LivenessFlushPeriod", LivenessFlushPeriod),
            SettingRules.Duration("Monitor:OutboxRelayPeriod", OutboxRelayPeriod),
            SettingRules.Duration("Monitor:PartitionRenewPeriod", PartitionRenewPeriod),
            SettingRules.Duration("Monitor:PartitionLease", PartitionLease),
            PartitionLease < 2 * PartitionRenewPeriod
                ? $"Monitor:PartitionLease must be at least twice Monitor:PartitionRenewPeriod ({PartitionRenewPeriod}), got {PartitionLease}"
                : null,
            SettingRules.Between("Monitor:SnapshotEvery", SnapshotEvery, 1, 1_000_000),
            SettingRules.Between("Monitor:TriggerConcurrency", TriggerConcurrency, 1, 10_000),
            SettingRules.Named("Monitor:DefaultFormation", MessageRules.Formation(DefaultFormation)),
        ];
        return rules.OfType<string>().Concat(Core.Problems());
    }
}

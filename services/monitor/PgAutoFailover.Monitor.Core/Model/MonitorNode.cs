using PgAutoFailover.Contracts;

namespace PgAutoFailover.Monitor.Core.Model;

/// <summary>
/// One node as the monitor sees it (docs/states.md#node-states): identity, the reported and goal states, the two health
/// signals (probes and keeper reports), replication position and the lease bookkeeping. Immutable; changed
/// only by <see cref="GroupProjection.Apply"/>.
/// </summary>
public sealed record MonitorNode
{
    /// <summary>Node id, unique in the monitor.</summary>
    public required long NodeId { get; init; }
    /// <summary>Node name, unique in the formation.</summary>
    public required string Name { get; init; }
    /// <summary>Host of the node's PostgreSQL.</summary>
    public required string Host { get; init; }
    /// <summary>Port of the node's PostgreSQL.</summary>
    public required int Port { get; init; }
    /// <summary>PostgreSQL system identifier; null while unknown.</summary>
    public ulong? SystemIdentifier { get; init; }

    /// <summary>State the keeper last reported it reached.</summary>
    public NodeState ReportedState { get; init; } = NodeState.Init;
    /// <summary>State the monitor assigned.</summary>
    public NodeState GoalState { get; init; } = NodeState.Init;
    /// <summary>Last goal assignment or reported-state change (spec statechangetime).</summary>
    public required DateTimeOffset StateChangedAt { get; init; }

    /// <summary>Keeper's last "PostgreSQL is running" flag.</summary>
    public bool PgIsRunning { get; init; } = true;
    /// <summary>Primary's best pg_stat_replication sync_state, or empty.</summary>
    public string ReplicationState { get; init; } = "";
    /// <summary>Last reported timeline (a reported 0 does not overwrite it).</summary>
    public int Timeline { get; init; } = 1;
    /// <summary>Last reported LSN (a reported 0 does not overwrite it).</summary>
    public ulong Lsn { get; init; }
    /// <summary>Candidate priority; 0 never promoted, &gt;100 or &lt;0 while perform_promotion/perform_failover adjust it.</summary>
    public int CandidatePriority { get; init; } = 50;
    /// <summary>Takes part in synchronous_standby_names.</summary>
    public bool ReplicationQuorum { get; init; } = true;

    /// <summary>Monitor time of the last keeper report; null before the first.</summary>
    public DateTimeOffset? LastReportAt { get; init; }
    /// <summary>Sequence of the last accepted keeper report (duplicates and stale reports are refused).</summary>
    public long LastReportSequence { get; init; } = -1;
    /// <summary>Keeper epoch of the last accepted report: reports are ordered by (epoch, sequence), see <see cref="ReportOrder"/>.</summary>
    public long LastReportEpoch { get; init; }
    /// <summary>Primary: time since the freshest sync standby reply, as last reported.</summary>
    public TimeSpan? SyncStandbyReplyAge { get; init; }
    /// <summary>Primary: how long its oldest WAL had waited for a standby's flush, as last reported; null when none waited.</summary>
    public TimeSpan? UnacknowledgedWalAge { get; init; }
    /// <summary>Keeper's last transition or check error, as of its last report (operator information only).</summary>
    public string? LastError { get; init; }
    /// <summary>Keeper's long step in progress, as of its last report (operator information only).</summary>
    public string? Progress { get; init; }
    /// <summary>[main] replication_stall_since: first report of a primary with an empty sync state.</summary>
    public DateTimeOffset? ReplicationStallSince { get; init; }

    /// <summary>Verdict of the probes.</summary>
    public NodeHealth Health { get; init; } = NodeHealth.Unknown;
    /// <summary>Time of the last probe result.</summary>
    public DateTimeOffset? HealthCheckAt { get; init; }
    /// <summary>Failed probes in a row.</summary>
    public int ConsecutiveProbeFailures { get; init; }
    /// <summary>Error of the last failed probe.</summary>
    public string? LastProbeError { get; init; }

    /// <summary>
    /// Latest instant at which this node may still be accepting writes under a lease the monitor granted
    /// (monitor clock; safety rule 3 (docs/architecture.md#safety-rules)). Null when never granted.
    /// </summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    /// <summary>Sequence of the report whose reply carried the last lease (its keeper may have become a writer after that report).</summary>
    public long LeaseReportSequence { get; init; } = -1;
    /// <summary>
    /// Latest instant this node may have been replicating from the primary (and so acknowledging its commits,
    /// which keeps a lease-expired primary alive): the time of its last report in, or its first report out of,
    /// a streaming state. Null when it never streamed.
    /// </summary>
    public DateTimeOffset? StreamingUntil { get; init; }
    /// <summary>Its last report said it was streaming from the primary (a streaming state, and not "disconnected").</summary>
    public bool ReportedStreaming { get; init; }

    /// <summary>
    /// First report, in the current run of such reports, in which the node said it is not writing (a
    /// non-writable state, or PostgreSQL not running); null while it reports a running writable state.
    /// </summary>
    public DateTimeOffset? NotWritingSince { get; init; }

    /// <summary>The monitor gave this node a writable goal at least once (a keeper may report such a state late).</summary>
    public bool EverAssignedWritable { get; init; }

    /// <summary>Converged in <paramref name="state"/>: reported == goal == state (spec IsCurrentState).</summary>
    public bool IsConverged(NodeState state) => ReportedState == state && GoalState == state;

    /// <summary>"node 2 "node_2" (localhost:5502)", the format operators grep for (services/monitor/README.md).</summary>
    public string Label => $"node {NodeId} \"{Name}\" ({Host}:{Port})";
}

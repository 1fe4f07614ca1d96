namespace PgAutoFailover.Contracts;

/// <summary>
/// Keeper → monitor request sent every keeper cycle and on every local change (docs/architecture.md#messages).
/// Answered by <see cref="NodeGoal"/>.
/// </summary>
/// <param name="Formation">Formation of the node.</param>
/// <param name="GroupId">Group of the node.</param>
/// <param name="NodeId">Node id assigned at registration.</param>
/// <param name="CurrentState">State the keeper last reached and persisted.</param>
/// <param name="PgIsRunning">Whether PostgreSQL accepts connections on its port.</param>
/// <param name="Timeline">Timeline id; 0 when unknown (ignored by the monitor).</param>
/// <param name="Lsn">Primary: flush LSN; standby: received (else replayed) LSN; 0 when unknown (ignored).</param>
/// <param name="ReplicationState">Primary: best sync_state among its standbys (sync, quorum, potential, async) or empty. Standby: "streaming" while its WAL receiver streams from the primary, "disconnected" otherwise.</param>
/// <param name="SyncStandbyReplyAge">Primary: time since the freshest reply of a synchronous standby, if any.</param>
/// <param name="Sequence">Keeper-local, strictly increasing report number: lets the monitor drop duplicates and stale reports.</param>
/// <param name="SentAt">Wall-clock time the keeper sent the report (informational).</param>
/// <param name="LastError">Error of the keeper's last failed transition or check, one line; null once a transition (or the check) succeeds. Null from older keepers.</param>
/// <param name="Progress">What a long step is doing right now, one line (e.g. "pg_basebackup from node 1: 45 MB / 120 MB (38 %), 3 s"); null when idle. Null from older keepers.</param>
/// <param name="Epoch">Keeper run: raised at every keeper start and whenever the monitor refuses a report as out of order
/// (<see cref="NodeReportRejected.LastAcceptedEpoch"/>). The monitor orders reports by (Epoch, Sequence). 0 from older keepers.</param>
/// <param name="UnacknowledgedWalAge">Primary: how long the oldest WAL it flushed has waited for a standby to flush it (the
/// synchronous ones while synchronous_standby_names is set, any otherwise); null when none waits, and from older keepers.</param>
public sealed record ReportNodeState(
    string Formation,
    int GroupId,
    long NodeId,
    NodeState CurrentState,
    bool PgIsRunning,
    int Timeline,
    ulong Lsn,
    string ReplicationState,
    TimeSpan? SyncStandbyReplyAge,
    long Sequence,
    DateTimeOffset SentAt,
    string? LastError = null,
    string? Progress = null,
    long Epoch = 0,
    TimeSpan? UnacknowledgedWalAge = null);

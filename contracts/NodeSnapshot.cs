namespace PgAutoFailover.Contracts;

/// <summary>One node inside a <see cref="FormationTopologyChanged"/> snapshot or a <see cref="FormationState"/> answer (columns of docs/operations.md).</summary>
/// <param name="Node">Identity and address.</param>
/// <param name="ReportedState">State last reported by the keeper.</param>
/// <param name="GoalState">State assigned by the monitor.</param>
/// <param name="Health">Monitor's verdict on the node's health.</param>
/// <param name="Timeline">Last reported timeline.</param>
/// <param name="Lsn">Last reported LSN.</param>
/// <param name="CandidatePriority">Candidate priority.</param>
/// <param name="ReplicationQuorum">Replication quorum flag.</param>
/// <param name="PgIsRunning">Keeper's last "PostgreSQL is running" flag.</param>
/// <param name="LastReportAt">Monitor time of the last keeper report; null if none yet.</param>
/// <param name="LastError">Keeper's last transition or check error as of its last report; null when none.</param>
/// <param name="Progress">Keeper's long step in progress as of its last report (clone, rewind); null when idle.</param>
public sealed record NodeSnapshot(
    NodeAddress Node, NodeState ReportedState, NodeState GoalState, NodeHealth Health, int Timeline, ulong Lsn,
    int CandidatePriority, bool ReplicationQuorum, bool PgIsRunning, DateTimeOffset? LastReportAt,
    string? LastError = null, string? Progress = null);

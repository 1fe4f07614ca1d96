namespace PgAutoFailover.Contracts;

/// <summary>Monitor → keeper: the node is registered.</summary>
/// <param name="Node">The node's identity and address as the monitor stored them.</param>
/// <param name="GoalState">First goal assigned: single, wait_standby or report_lsn.</param>
/// <param name="CandidatePriority">Candidate priority stored for the node.</param>
/// <param name="ReplicationQuorum">Replication quorum flag stored for the node.</param>
public sealed record NodeRegistered(NodeAddress Node, NodeState GoalState, int CandidatePriority, bool ReplicationQuorum);

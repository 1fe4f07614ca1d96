namespace PgAutoFailover.Contracts;

/// <summary>Monitor → keeper reply to <see cref="ReportNodeState"/>: what the node must become.</summary>
/// <param name="Formation">Formation of the node.</param>
/// <param name="GroupId">Group of the node.</param>
/// <param name="NodeId">Node the goal is for.</param>
/// <param name="GoalState">Assigned state.</param>
/// <param name="CandidatePriority">Candidate priority the monitor holds for the node.</param>
/// <param name="ReplicationQuorum">Replication quorum flag the monitor holds for the node.</param>
/// <param name="SynchronousStandbyNames">Value of synchronous_standby_names a primary must apply; empty for none.</param>
/// <param name="Primary">Current primary of the group, for standbys to follow; null when none.</param>
/// <param name="Lease">Write lease for a node with a writable goal; null otherwise.</param>
/// <param name="UpstreamNode">For fast_forward: the standby to fetch missing WAL from.</param>
/// <param name="TargetLsn">For fast_forward: the LSN to reach before promotion (0 when none).</param>
/// <param name="GroupNodeIds">
/// Ids of every node currently in the group (goal not dropped), this one included unless being dropped, ascending. A primary
/// drops inactive <c>pgautofailover_standby_&lt;id&gt;</c> slots of ids not in the list. Null (a monitor older than
/// this field) means unknown: keep all slots. Being a list, it makes record equality compare by reference.
/// </param>
/// <param name="GroupHosts">
/// Hosts of the nodes in <paramref name="GroupNodeIds"/>, distinct, ordinal order (services/keeper/README.md: HBA entries for every
/// other node of the group). The keeper admits the replication role from them in pg_hba.conf, besides its own host and
/// the configured ones. Null (an older monitor) means unknown: the configured hosts only.
/// </param>
public sealed record NodeGoal(
    string Formation,
    int GroupId,
    long NodeId,
    NodeState GoalState,
    int CandidatePriority,
    bool ReplicationQuorum,
    string SynchronousStandbyNames,
    NodeAddress? Primary,
    PrimaryLease? Lease,
    NodeAddress? UpstreamNode,
    ulong TargetLsn,
    IReadOnlyList<long>? GroupNodeIds = null,
    IReadOnlyList<string>? GroupHosts = null);

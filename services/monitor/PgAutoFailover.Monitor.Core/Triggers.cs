using PgAutoFailover.Contracts;

namespace PgAutoFailover.Monitor.Core;

/// <summary>What makes the core decide: a keeper report or registration, a probe result, an operator command, or a timer.</summary>
public abstract record Trigger;

/// <summary>
/// A keeper asks to register (docs/states.md#registration). The service allocates <paramref name="NodeId"/> from its monitor-wide
/// sequence (or honours the desired id) and checks host:port uniqueness across groups; the core checks the rest.
/// </summary>
public sealed record RegisterTrigger(
    long NodeId, string? NodeName, string Host, int Port, string DatabaseName, ulong? SystemIdentifier,
    int CandidatePriority, bool ReplicationQuorum, NodeState InitialState, int? GroupId = null, string? Formation = null) : Trigger
{
    /// <summary>From the wire request, with the node id chosen by the service.</summary>
    public static RegisterTrigger From(RegisterNode r, long nodeId) => new(
        nodeId, r.NodeName, r.Host, r.Port, r.DatabaseName, r.SystemIdentifier, r.CandidatePriority,
        r.ReplicationQuorum, r.InitialState, r.GroupId, r.Formation);
}

/// <summary>
/// A keeper report (docs/architecture.md#messages, node_active). <paramref name="LastError"/> and <paramref name="Progress"/> are for
/// the operator only: stored with the report, never read by a rule, and a change of either alone keeps the report
/// liveness only.
/// </summary>
public sealed record ReportTrigger(
    long NodeId, NodeState CurrentState, bool PgIsRunning, int Timeline, ulong Lsn, string ReplicationState,
    long Sequence, TimeSpan? SyncStandbyReplyAge = null, string? LastError = null, string? Progress = null, long Epoch = 0,
    TimeSpan? UnacknowledgedWalAge = null) : Trigger
{
    /// <summary>From the wire request.</summary>
    public static ReportTrigger From(ReportNodeState r) => new(
        r.NodeId, r.CurrentState, r.PgIsRunning, r.Timeline, r.Lsn, r.ReplicationState, r.Sequence, r.SyncStandbyReplyAge,
        r.LastError, r.Progress, r.Epoch, r.UnacknowledgedWalAge);
}

/// <summary>
/// A health-checker probe result. <paramref name="CheckerConsecutiveFailures"/>: the failed probes in a row the checker
/// counted, this one included (0 when unknown): where several monitors share the probes, each sees only some of them.
/// </summary>
public sealed record ProbeTrigger(long NodeId, bool Succeeded, string? Error = null, int CheckerConsecutiveFailures = 0) : Trigger
{
    /// <summary>From the wire message.</summary>
    public static ProbeTrigger From(NodeProbed p) => new(p.Node.NodeId, p.Succeeded, p.Error, p.ConsecutiveFailures);
}

/// <summary>
/// Periodic evaluation (the service fires it about every probe period): re-runs the group state machine for
/// every reporting node, so timeouts (demote timeout, lease expiry, replication stall) act without waiting
/// for the next report.
/// </summary>
public sealed record TimerTrigger : Trigger;

/// <summary>An operator command (request/response: the decision either succeeds or carries a refusal).</summary>
public abstract record OperatorTrigger : Trigger;

/// <summary>perform failover / perform switchover (docs/states.md#operator-commands). <paramref name="AllowDataLoss"/>: [main] --allow-data-loss, runs with guard_data_loss off.</summary>
public sealed record FailoverCommand(bool AllowDataLoss = false, bool Switchover = false) : OperatorTrigger;

/// <summary>perform promotion of a node (docs/states.md#operator-commands).</summary>
public sealed record PromotionCommand(long NodeId) : OperatorTrigger;

/// <summary>enable maintenance (start_maintenance, docs/states.md#operator-commands).</summary>
public sealed record EnableMaintenanceCommand(long NodeId, bool AllowFailover = true) : OperatorTrigger;

/// <summary>disable maintenance (stop_maintenance, docs/states.md#operator-commands).</summary>
public sealed record DisableMaintenanceCommand(long NodeId) : OperatorTrigger;

/// <summary>set node candidate-priority (docs/states.md#operator-commands).</summary>
public sealed record SetCandidatePriorityCommand(long NodeId, int CandidatePriority) : OperatorTrigger;

/// <summary>set node replication-quorum (docs/states.md#operator-commands).</summary>
public sealed record SetReplicationQuorumCommand(long NodeId, bool ReplicationQuorum) : OperatorTrigger;

/// <summary>set formation number-sync-standbys (docs/states.md#operator-commands).</summary>
public sealed record SetNumberSyncStandbysCommand(int NumberSyncStandbys) : OperatorTrigger;

/// <summary>pgaf enable / disable automatic-failover: resume or pause failovers that start by themselves.</summary>
public sealed record SetAutomaticFailoverCommand(bool Enabled) : OperatorTrigger;

/// <summary>set node metadata (update_node_metadata, docs/states.md#operator-commands): null leaves a field unchanged.</summary>
public sealed record UpdateNodeMetadataCommand(long NodeId, string? Name = null, string? Host = null, int? Port = null) : OperatorTrigger;

/// <summary>drop node (remove_node, docs/states.md#operator-commands).</summary>
public sealed record DropNodeCommand(long NodeId, bool Force = false) : OperatorTrigger;

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>The show events line (docs/operations.md) of a stored event; null for bookkeeping that is not an event to an operator.</summary>
public static class EventDescriptions
{
    public sealed record Line(long? NodeId, NodeState Reported, NodeState Goal, string Description);

    public static Line? Describe(IGroupEvent e) => e switch
    {
        NodeJoined j => new(j.NodeId, j.InitialReportedState, NodeState.Init,
            $"Registering node {j.NodeId} \"{j.Name}\" ({j.Host}:{j.Port}) with candidate priority {j.CandidatePriority} and replication quorum {(j.ReplicationQuorum ? "true" : "false")}"),
        // A report stored only because the node started or stopped streaming is bookkeeping for the lease, as the
        // lease renewals are: `show events` keeps to state changes.
        NodeReported { StateChanged: false } => null,
        NodeReported r => new(r.NodeId, r.ReportedState, NodeState.Unknown,
            $"New state is reported by node {r.NodeId}: \"{Name(r.ReportedState)}\"{(r.PgIsRunning ? "" : " (PostgreSQL is not running)")}"),
        GoalAssigned g => new(g.NodeId, NodeState.Unknown, g.Goal, g.Description),
        NodeHealthMarked h => new(h.NodeId, NodeState.Unknown, NodeState.Unknown, h.Reason),
        CandidatePriorityChanged c => new(c.NodeId, NodeState.Unknown, NodeState.Unknown, c.Reason),
        ReplicationQuorumChanged q => new(q.NodeId, NodeState.Unknown, NodeState.Unknown,
            $"Updating replication quorum to {(q.ReplicationQuorum ? "true" : "false")} for node {q.NodeId}"),
        NodeMetadataChanged m => new(m.NodeId, NodeState.Unknown, NodeState.Unknown,
            $"Updating metadata of node {m.NodeId}: \"{m.PreviousName}\" ({m.PreviousHost}:{m.PreviousPort}) is now \"{m.Name}\" ({m.Host}:{m.Port})"),
        NumberSyncStandbysChanged s => new(null, NodeState.Unknown, NodeState.Unknown, s.Reason),
        AutomaticFailoverChanged a => new(null, NodeState.Unknown, NodeState.Unknown, a.Enabled ? "Automatic failover enabled by the operator" : "Automatic failover disabled by the operator: no failover starts by itself"),
        NodeRemoved r => new(r.NodeId, NodeState.Dropped, NodeState.Dropped, r.Reason),
        FailoverBegan f => new(f.OldPrimaryId, NodeState.Unknown, NodeState.Unknown, f.Reason),
        FailoverBlockedChanged b => new(null, NodeState.Unknown, NodeState.Unknown, b.Reason ?? "A failover can happen again: a standby can be promoted, or the primary is healthy"),
        FailoverEnded f => new(f.NewPrimaryId, NodeState.Unknown, NodeState.Unknown, $"Failover complete: node {f.NewPrimaryId} is the new primary"),
        _ => null,
    };

    /// <summary>pg_auto_failover's name of a state ("wait_primary").</summary>
    public static string Name(NodeState state) => NodeStateNames.Of(state);
}

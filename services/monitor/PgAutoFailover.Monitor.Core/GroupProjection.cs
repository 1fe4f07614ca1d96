using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// Folds domain events into <see cref="GroupState"/>. The decision core uses this same function on its
/// working copy while it decides, so a state rebuilt from the stored events is exactly the state it decided
/// from.
/// </summary>
public static class GroupProjection
{
    /// <summary>Rebuilds a group from its stream; the first event must be <see cref="GroupCreated"/>.</summary>
    public static GroupState Rebuild(IEnumerable<IGroupEvent> events)
    {
        GroupState? state = null;
        foreach (var e in events)
        {
            state = state is null
                ? e is GroupCreated created
                    ? GroupState.Empty(created.Settings, created.At)
                    : throw new ArgumentException("a group stream starts with GroupCreated", nameof(events))
                : Apply(state, e);
        }
        return state ?? throw new ArgumentException("empty group stream", nameof(events));
    }

    /// <summary>Applies one event. Events about unknown nodes are ignored (they cannot be produced by the core).</summary>
    public static GroupState Apply(GroupState state, IGroupEvent e) => e switch
    {
        GroupCreated c => GroupState.Empty(c.Settings, c.At),
        NodeJoined j => state with
        {
            AllNodes = state.AllNodes.SetItem(j.NodeId, new MonitorNode
            {
                NodeId = j.NodeId,
                Name = j.Name,
                Host = j.Host,
                Port = j.Port,
                SystemIdentifier = j.SystemIdentifier,
                CandidatePriority = j.CandidatePriority,
                ReplicationQuorum = j.ReplicationQuorum,
                ReportedState = j.InitialReportedState,
                EverAssignedWritable = States.IsWritable(j.InitialReportedState),
                GoalState = NodeState.Init,
                StateChangedAt = j.At,
            }),
        },
        NodeReported r => Update(state, r.NodeId, n => ApplyReport(n, r)),
        ProbeRecorded p => Update(state, p.NodeId, n => n with
        {
            HealthCheckAt = p.At,
            ConsecutiveProbeFailures = p.ConsecutiveFailures,
            LastProbeError = p.Succeeded ? null : p.Error,
        }),
        NodeHealthMarked h => Update(state, h.NodeId, n => n with { Health = h.Health, HealthCheckAt = h.At }),
        GoalAssigned g => Update(state, g.NodeId, n => n with
        {
            GoalState = g.Goal,
            StateChangedAt = g.At,
            EverAssignedWritable = n.EverAssignedWritable || States.IsWritable(g.Goal),
        }),
        LeaseGranted l => Update(state, l.NodeId, n => n with
        {
            LeaseExpiresAt = n.LeaseExpiresAt is { } old && old > l.ExpiresAt ? old : l.ExpiresAt,
            LeaseReportSequence = Math.Max(n.LeaseReportSequence, l.ReportSequence),
        }),
        CandidatePriorityChanged c => Update(state, c.NodeId, n => n with { CandidatePriority = c.CandidatePriority }),
        NodeMetadataChanged m => Update(state, m.NodeId, n => n with { Name = m.Name, Host = m.Host, Port = m.Port }),
        ReplicationQuorumChanged q => Update(state, q.NodeId, n => n with { ReplicationQuorum = q.ReplicationQuorum }),
        NumberSyncStandbysChanged s => state with { Settings = state.Settings with { NumberSyncStandbys = s.NumberSyncStandbys } },
        AutomaticFailoverChanged a => state with { Settings = state.Settings with { AutomaticFailover = a.Enabled } },
        DatabaseNameAdopted d => state with { Settings = state.Settings with { DatabaseName = d.DatabaseName } },
        NodeRemoved r => state with
        {
            AllNodes = state.AllNodes.Remove(r.NodeId),
            RemovedStreamingUntil = Later(state.RemovedStreamingUntil,
                state.Find(r.NodeId) is { } gone ? gone.ReportedStreaming ? r.At : gone.StreamingUntil : null),
        },
        FailoverBegan f => state with { Failover = new FailoverInProgress(f.FailoverId, f.OldPrimaryId, f.Reason, f.Planned, f.At) },
        FailoverEnded => state with { Failover = null },
        FailoverBlockedChanged b => state with { FailoverBlockedReason = b.Reason },
        _ => state,
    };

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static GroupState Update(GroupState state, long nodeId, Func<MonitorNode, MonitorNode> change) =>
        state.AllNodes.TryGetValue(nodeId, out var node)
            ? state with { AllNodes = state.AllNodes.SetItem(nodeId, change(node)) }
            : state;

    private static MonitorNode ApplyReport(MonitorNode n, NodeReported r)
    {
        var primaryState = r.ReportedState is NodeState.Primary or NodeState.ApplySettings or NodeState.JoinPrimary;
        var stalled = primaryState && string.IsNullOrEmpty(r.ReplicationState);
        // A standby whose keeper says its WAL receiver is not streaming cannot be acknowledging the primary's
        // commits; without that word (older keepers) a streaming state counts as streaming.
        var streaming = NodeReported.SaysStreaming(r.ReportedState, r.ReplicationState);
        return n with
        {
            ReportedState = r.ReportedState,
            StateChangedAt = r.ReportedState != n.ReportedState ? r.At : n.StateChangedAt,
            PgIsRunning = r.PgIsRunning,
            // docs/states.md#node-states: a TLI of 0 and an LSN of 0/0 do not overwrite the stored values.
            Timeline = r.Timeline != 0 ? r.Timeline : n.Timeline,
            Lsn = r.Lsn != 0 ? r.Lsn : n.Lsn,
            ReplicationState = r.ReplicationState,
            SyncStandbyReplyAge = r.SyncStandbyReplyAge,
            UnacknowledgedWalAge = r.UnacknowledgedWalAge,
            LastReportAt = r.At,
            LastReportSequence = r.Sequence,
            LastReportEpoch = r.Epoch,
            LastError = r.LastError,
            Progress = r.Progress,
            ReplicationStallSince = stalled ? n.ReplicationStallSince ?? r.At : null,
            NotWritingSince = States.IsWritable(r.ReportedState) && r.PgIsRunning ? null : n.NotWritingSince ?? r.At,
            // A node that stops streaming may have streamed until this very report.
            StreamingUntil = streaming || n.ReportedStreaming ? r.At : n.StreamingUntil,
            ReportedStreaming = streaming,
        };
    }
}

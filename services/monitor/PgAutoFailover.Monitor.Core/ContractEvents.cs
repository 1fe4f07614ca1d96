using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// Maps a decision's domain events to the published contract events (docs/architecture.md#messages): NodeStateChanged,
/// GoalStateAssigned, PrimaryChanged, FailoverStarted, FailoverCompleted, FailoverBlocked, NodeHealthChanged. Pure, like the
/// rest of the core: the service publishes what this returns after the events are stored.
/// </summary>
public static class ContractEvents
{
    /// <summary>
    /// Contract events for <paramref name="decision"/> taken on <paramref name="before"/>.
    /// <paramref name="versionBeforeDecision"/> is the group stream's version before the decision's events were
    /// appended; the i-th event (1-based) gets GroupVersion = versionBeforeDecision + i. If the service stores
    /// liveness-only events elsewhere, pass the version its stream had and ignore the numbering of those.
    /// </summary>
    public static IReadOnlyList<object> For(GroupState before, Decision decision, long versionBeforeDecision)
    {
        var published = new List<object>();
        var state = before;
        var version = versionBeforeDecision;
        foreach (var e in decision.Events)
        {
            var previous = state;
            state = GroupProjection.Apply(state, e);
            version++;
            switch (e)
            {
                case NodeReported { StateChanged: true } r when previous.Find(r.NodeId) is { } was && was.ReportedState != r.ReportedState:
                    published.Add(new NodeStateChanged(MonitorCore.Address(state, state[r.NodeId]), was.ReportedState, r.ReportedState,
                        state[r.NodeId].GoalState, state[r.NodeId].Timeline, state[r.NodeId].Lsn, version, r.At));
                    break;
                case GoalAssigned g when state.Find(g.NodeId) is { } node:
                    published.Add(new GoalStateAssigned(MonitorCore.Address(state, node), g.PreviousGoal, g.Goal, node.ReportedState,
                        g.Description, version, g.At));
                    break;
                case NodeHealthMarked h when previous.Find(h.NodeId) is { } was:
                    published.Add(new NodeHealthChanged(MonitorCore.Address(state, state[h.NodeId]), was.Health, h.Health,
                        h.Health == NodeHealth.Good ? null : h.Reason, version, h.At));
                    break;
                case FailoverBegan f:
                    published.Add(new FailoverStarted(state.Settings.Formation, state.Settings.GroupId, f.FailoverId,
                        AddressOf(previous, f.OldPrimaryId), null, f.Reason, f.Planned, version, f.At));
                    break;
                case FailoverBlockedChanged b:
                    var primary = Writer(state);
                    published.Add(new FailoverBlocked(state.Settings.Formation, state.Settings.GroupId,
                        primary is null ? null : MonitorCore.Address(state, primary), b.Reason, version, b.At));
                    break;
                case FailoverEnded f when previous.Failover is { } running && state.Find(f.NewPrimaryId) is { } newPrimary:
                    published.Add(new FailoverCompleted(state.Settings.Formation, state.Settings.GroupId, f.FailoverId,
                        AddressOf(previous, running.OldPrimaryId), MonitorCore.Address(state, newPrimary), f.At - running.StartedAt, version, f.At));
                    break;
            }

            var writerBefore = Writer(previous);
            var writerAfter = Writer(state);
            if (writerBefore?.NodeId != writerAfter?.NodeId)
                published.Add(new PrimaryChanged(state.Settings.Formation, state.Settings.GroupId,
                    writerBefore is null ? null : MonitorCore.Address(previous, writerBefore),
                    writerAfter is null ? null : MonitorCore.Address(state, writerAfter), version, e.At));
        }
        return published;
    }

    private static MonitorNode? Writer(GroupState g) => g.Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState));

    private static NodeAddress? AddressOf(GroupState g, long? nodeId) =>
        nodeId is { } id && g.Find(id) is { } n ? MonitorCore.Address(g, n) : null;
}

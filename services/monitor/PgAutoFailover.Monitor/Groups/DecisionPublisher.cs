using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;
using PgAutoFailover.Monitor.Messaging;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Tells the world what a decision did: AssignGoalState to each keeper whose goal changed (at once, so it
/// never waits for its next cycle), and the published events ops and the other services consume.
/// Published after the events are stored; a crash in between loses only notifications that the next
/// report, probe or topology snapshot repeats (snapshots are full and versioned).
/// </summary>
public sealed class DecisionPublisher(IBus bus, ILogger<DecisionPublisher> logger)
{
    public async Task PublishAsync(GroupOutcome outcome, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (before, after, decision, version) = (outcome.Before, outcome.After, outcome.Decision, outcome.Version);
        var messages = new List<object>();

        foreach (var assignment in decision.Assignments)
        {
            if (after.Find(assignment.NodeId) is not { } node) continue;
            var address = MonitorCore.Address(after, node);
            if (MonitorCore.GoalFor(after, node.NodeId, decision) is { } goal)
            {
                var endpoint = await bus.GetSendEndpoint(KeeperQueues.For(node.NodeId));
                await endpoint.Send(new AssignGoalState(goal, version, assignment.Description), cancellationToken);
            }
            messages.Add(new GoalStateAssigned(address, assignment.PreviousGoal, assignment.Goal, assignment.ReportedState,
                assignment.Description, version, now));
            logger.LogInformation("Assigned {Goal} to node {NodeId} in {Formation}/{GroupId}: {Description}",
                assignment.Goal, node.NodeId, after.Settings.Formation, after.Settings.GroupId, assignment.Description);
        }

        foreach (var e in decision.Events)
        {
            switch (e)
            {
                case NodeReported { StateChanged: true } r when after.Find(r.NodeId) is { } n:
                    messages.Add(new NodeStateChanged(MonitorCore.Address(after, n), before?.Find(r.NodeId)?.ReportedState ?? NodeState.Unknown,
                        r.ReportedState, n.GoalState, r.Timeline, r.Lsn, version, now));
                    break;
                case NodeHealthMarked h when after.Find(h.NodeId) is { } n:
                    messages.Add(new NodeHealthChanged(MonitorCore.Address(after, n), before?.Find(h.NodeId)?.Health ?? NodeHealth.Unknown,
                        h.Health, h.Health == NodeHealth.Good ? null : h.Reason, version, now));
                    break;
                case FailoverBegan f:
                    messages.Add(new FailoverStarted(after.Settings.Formation, after.Settings.GroupId, f.FailoverId,
                        AddressOf(before ?? after, f.OldPrimaryId), null, f.Reason, f.Planned, version, now));
                    break;
                case FailoverEnded f when after.Find(f.NewPrimaryId) is { } n:
                    messages.Add(new FailoverCompleted(after.Settings.Formation, after.Settings.GroupId, f.FailoverId,
                        AddressOf(before ?? after, before?.Failover?.OldPrimaryId), MonitorCore.Address(after, n),
                        before?.Failover is { } started ? now - started.StartedAt : TimeSpan.Zero, version, now));
                    break;
            }
        }

        var writerBefore = before is null ? null : Writer(before);
        var writerAfter = Writer(after);
        if (writerBefore?.NodeId != writerAfter?.NodeId)
        {
            messages.Add(new PrimaryChanged(after.Settings.Formation, after.Settings.GroupId,
                writerBefore is null ? null : MonitorCore.Address(before!, writerBefore),
                writerAfter is null ? null : MonitorCore.Address(after, writerAfter), version, now));
        }

        if (before is null || TopologyChanged(before, after))
        {
            messages.Add(new FormationTopologyChanged(after.Settings.Formation, after.Settings.DatabaseName, version,
                MonitorCore.Snapshot(after), now));
        }

        foreach (var message in messages) await bus.Publish(message, message.GetType(), cancellationToken);
    }

    /// <summary>The node holding a writable goal: the one that may accept writes, or is about to.</summary>
    public static MonitorNode? Writer(GroupState group) => group.Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState));

    private static NodeAddress? AddressOf(GroupState group, long? nodeId) =>
        nodeId is { } id && group.Find(id) is { } n ? MonitorCore.Address(group, n) : null;

    /// <summary>Changes that matter to a topology consumer; LSNs and report times alone are not topology.</summary>
    private static bool TopologyChanged(GroupState before, GroupState after) =>
        !Topology(before).SequenceEqual(Topology(after)) || before.Settings.DatabaseName != after.Settings.DatabaseName;

    private static IEnumerable<NodeSnapshot> Topology(GroupState group) =>
        MonitorCore.Snapshot(group).Select(n => n with { Lsn = 0, LastReportAt = null });
}

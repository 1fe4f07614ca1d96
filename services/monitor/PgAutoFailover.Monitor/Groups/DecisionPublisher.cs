using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Model;
using PgAutoFailover.Monitor.Messaging;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Tells the world what a decision did: AssignGoalState to each keeper whose goal changed (at once, so it
/// never waits for its next cycle), the events ops consume (mapped by the core's <see cref="ContractEvents"/>),
/// and a full topology snapshot when roles, states, health or settings changed.
/// Published after the events are stored; a crash in between loses only notifications that the next
/// report, probe or topology snapshot repeats (snapshots are full and versioned).
/// </summary>
public sealed partial class DecisionPublisher(IBus bus, ILogger<DecisionPublisher> logger)
{
    public async Task PublishAsync(GroupOutcome outcome, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (before, after, decision) = (outcome.Before, outcome.After, outcome.Decision);
        // Most timer evaluations change nothing: no goal, no event, no topology to compare (1,000/s at 1,000 nodes).
        if (decision.Events.Count == 0 && decision.Assignments.Count == 0 && !outcome.Created) return;
        foreach (var assignment in decision.Assignments)
        {
            if (MonitorCore.GoalFor(after, assignment.NodeId, decision) is not { } goal) continue;
            var endpoint = await bus.GetSendEndpoint(KeeperQueues.For(assignment.NodeId));
            await endpoint.Send(new AssignGoalState(goal, outcome.Version, assignment.Description), cancellationToken);
            Log.GoalAssigned(logger, assignment.Goal, assignment.NodeId, after.Settings.Formation, after.Settings.GroupId, assignment.Description);
        }

        var messages = ContractEvents.For(before, decision, outcome.VersionBefore).ToList();
        if (outcome.Created || TopologyChanged(before, after))
        {
            messages.Add(new FormationTopologyChanged(after.Settings.Formation, after.Settings.DatabaseName, outcome.Version,
                MonitorCore.Snapshot(after), now));
        }
        foreach (var message in messages) await bus.Publish(message, message.GetType(), cancellationToken);
    }

    /// <summary>The node holding a writable goal: the one that may accept writes, or is about to.</summary>
    public static MonitorNode? Writer(GroupState group) => group.Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState));

    /// <summary>Changes that matter to a topology consumer; LSNs, report times, keeper errors and progress alone are not topology.</summary>
    private static bool TopologyChanged(GroupState before, GroupState after) =>
        !Topology(before).SequenceEqual(Topology(after)) || before.Settings.DatabaseName != after.Settings.DatabaseName;

    private static IEnumerable<NodeSnapshot> Topology(GroupState group) =>
        MonitorCore.Snapshot(group).Select(n => n with { Lsn = 0, LastReportAt = null, LastError = null, Progress = null });

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Assigned {Goal} to node {NodeId} in {Formation}/{GroupId}: {Description}")]
        public static partial void GoalAssigned(ILogger logger, NodeState goal, long nodeId, string formation, int groupId, string description);
    }
}

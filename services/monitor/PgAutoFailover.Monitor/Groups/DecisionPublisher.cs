using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Model;
using PgAutoFailover.Monitor.Messaging;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Tells the world what a decision did: AssignGoalState to each keeper whose goal changed (at once, so it
/// never waits for its next cycle), the events ops consume (mapped by the core's <see cref="ContractEvents"/>),
/// and a full topology snapshot when roles, states, health or settings changed.
/// The events are computed before the decision is stored and stored with it (<see cref="OutboxBatch"/>), then
/// published, then their batch is deleted: a monitor that dies in between publishes them after its restart
/// (<see cref="OutboxRelay"/>), with the same message ids (docs/events.md#delivery).
/// </summary>
public sealed partial class DecisionPublisher(IBus bus, GoalQueues goalQueues, OutboxCleaner cleaner, ILogger<DecisionPublisher> logger)
{
    /// <summary>The events and topology snapshot <paramref name="outcome"/> publishes, computed before it is stored.</summary>
    public static DecisionMessages Messages(string stream, GroupOutcome outcome, DateTimeOffset now)
    {
        var (before, after, decision) = (outcome.Before, outcome.After, outcome.Decision);
        // Most timer evaluations change nothing (1,000 a second at 1,000 nodes): no events, no topology to compare.
        if (decision.Events.Count == 0 && !outcome.Created) return DecisionMessages.Of(stream, outcome.Version, []);
        var messages = ContractEvents.For(before, decision, outcome.VersionBefore).ToList();
        if (outcome.Created || TopologyChanged(before, after))
        {
            messages.Add(new FormationTopologyChanged(after.Settings.Formation, after.Settings.DatabaseName, outcome.Version,
                MonitorCore.Snapshot(after), now));
        }
        return DecisionMessages.Of(stream, outcome.Version, messages);
    }

    /// <summary>
    /// Sends the goals, publishes <paramref name="messages"/> and, when they were stored with the decision
    /// (<paramref name="stored"/>), has their batch deleted (in the background, <see cref="OutboxCleaner"/>).
    /// </summary>
    public async Task PublishAsync(GroupOutcome outcome, DecisionMessages messages, bool stored, CancellationToken cancellationToken)
    {
        var (after, decision) = (outcome.After, outcome.Decision);
        if (decision.Assignments.Count == 0 && messages.Messages.Count == 0) return;
        foreach (var assignment in decision.Assignments)
        {
            if (MonitorCore.GoalFor(after, assignment.NodeId, decision) is not { } goal) continue;
            var endpoint = await bus.GetSendEndpoint(await goalQueues.AddressAsync(assignment.NodeId, cancellationToken));
            await endpoint.Send(new AssignGoalState(goal, outcome.Version, assignment.Description), cancellationToken);
            Log.GoalAssigned(logger, assignment.Goal, assignment.NodeId, after.Settings.Formation, after.Settings.GroupId, assignment.Description);
        }
        await PublishEventsAsync(messages, cancellationToken);
        if (stored) cleaner.Published(OutboxBatch.IdOf(messages.Stream, messages.Version));
    }

    /// <summary>Publishes each message with its own message id (the relay publishes a stored batch this way too).</summary>
    public async Task PublishEventsAsync(DecisionMessages messages, CancellationToken cancellationToken)
    {
        foreach (var (message, id) in messages.Messages)
        {
            await bus.Publish(message, message.GetType(), Pipe.Execute<PublishContext>(context => context.MessageId = id), cancellationToken);
        }
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

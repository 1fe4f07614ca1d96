using System.Diagnostics;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>
/// The trace a pushed goal came in: the monitor's decision span, carried in AssignGoalState's headers
/// (docs/architecture.md#traces). The transition to that goal is its child, so a failover reads as one trace from the
/// failed probe through the monitor's decisions to the promote. A goal taken only from a report's reply has none.
/// </summary>
public sealed record GoalTrace(NodeState Goal, ActivityContext Context)
{
    public static readonly ActivitySource Source = new(KeeperService.Telemetry.ServiceName);

    /// <summary>The span of a transition to <paramref name="to"/>, a child of the goal's trace when it came pushed.</summary>
    public static Activity? StartTransition(GoalTrace? trace, NodeState from, NodeState to)
    {
        var parent = trace is { } t && t.Goal == to ? t.Context : default;
        var activity = Source.StartActivity($"transition {KeeperStates.Name(from)} → {KeeperStates.Name(to)}", ActivityKind.Internal, parent);
        activity?.SetTag("pgaf.from", KeeperStates.Name(from));
        activity?.SetTag("pgaf.to", KeeperStates.Name(to));
        return activity;
    }
}

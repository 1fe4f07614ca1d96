namespace PgAutoFailover.Contracts;

/// <summary>Published each time the monitor assigns a goal state to a node.</summary>
/// <param name="Node">The node.</param>
/// <param name="PreviousGoalState">Goal before.</param>
/// <param name="GoalState">Goal now.</param>
/// <param name="ReportedState">State the node reported last.</param>
/// <param name="Description">Why, as printed by show events.</param>
/// <param name="GroupVersion">Version of the group's event stream after this assignment.</param>
/// <param name="OccurredAt">Monitor time of the assignment.</param>
public sealed record GoalStateAssigned(
    NodeAddress Node, NodeState PreviousGoalState, NodeState GoalState, NodeState ReportedState,
    string Description, long GroupVersion, DateTimeOffset OccurredAt);

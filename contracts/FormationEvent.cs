namespace PgAutoFailover.Contracts;

/// <summary>One line of show events.</summary>
/// <param name="EventId">Position of the event in its group's stream.</param>
/// <param name="OccurredAt">Monitor time.</param>
/// <param name="Formation">Formation.</param>
/// <param name="GroupId">Group.</param>
/// <param name="NodeId">Node concerned; null for a group-level event.</param>
/// <param name="NodeName">Name of the node concerned; null for a group-level event.</param>
/// <param name="ReportedState">Node's reported state at that moment.</param>
/// <param name="GoalState">Node's goal state at that moment.</param>
/// <param name="Description">Human-readable description.</param>
public sealed record FormationEvent(
    long EventId, DateTimeOffset OccurredAt, string Formation, int GroupId, long? NodeId, string? NodeName,
    NodeState ReportedState, NodeState GoalState, string Description);

namespace PgAutoFailover.Contracts;

/// <summary>
/// Monitor → keeper command sent to the keeper's own queue the moment its goal changes,
/// so a keeper never waits for its next cycle to learn it.
/// </summary>
/// <param name="Goal">The goal, exactly as a <see cref="NodeGoal"/> reply would carry it. A keeper drops it if <paramref name="GroupVersion"/> is older than one it has seen.</param>
/// <param name="GroupVersion">Version of the group's event stream that produced this goal.</param>
/// <param name="Description">Why the goal was assigned, as shown by show events.</param>
public sealed record AssignGoalState(NodeGoal Goal, long GroupVersion, string Description);

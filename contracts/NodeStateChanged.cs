namespace PgAutoFailover.Contracts;

/// <summary>Published when a keeper reports a new state for its node.</summary>
/// <param name="Node">The node.</param>
/// <param name="PreviousState">Previously reported state.</param>
/// <param name="ReportedState">Newly reported state.</param>
/// <param name="GoalState">Goal state assigned at that moment.</param>
/// <param name="Timeline">Reported timeline.</param>
/// <param name="Lsn">Reported LSN.</param>
/// <param name="GroupVersion">Version of the group's event stream after this change.</param>
/// <param name="OccurredAt">Monitor time of the change.</param>
public sealed record NodeStateChanged(
    NodeAddress Node, NodeState PreviousState, NodeState ReportedState, NodeState GoalState,
    int Timeline, ulong Lsn, long GroupVersion, DateTimeOffset OccurredAt);

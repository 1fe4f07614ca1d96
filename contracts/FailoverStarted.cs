namespace PgAutoFailover.Contracts;

/// <summary>Published when the monitor starts a failover, switchover or promotion in a group.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="GroupId">Group.</param>
/// <param name="FailoverId">Identifier shared with the matching <see cref="FailoverCompleted"/>.</param>
/// <param name="OldPrimary">Primary being replaced; null if the group had none.</param>
/// <param name="Candidate">Candidate chosen so far; null while an election is running.</param>
/// <param name="Reason">Why: "primary unhealthy", "operator failover", "operator promotion of node 2", ….</param>
/// <param name="Planned">True for an operator-requested switchover or promotion.</param>
/// <param name="GroupVersion">Version of the group's event stream after this decision.</param>
/// <param name="OccurredAt">Monitor time of the decision.</param>
public sealed record FailoverStarted(
    string Formation, int GroupId, Guid FailoverId, NodeAddress? OldPrimary, NodeAddress? Candidate,
    string Reason, bool Planned, long GroupVersion, DateTimeOffset OccurredAt);

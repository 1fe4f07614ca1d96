namespace PgAutoFailover.Contracts;

/// <summary>
/// Published when a failover away from an unhealthy primary cannot happen because of how the group is set up (every
/// standby has candidate priority 0), and again with a null <see cref="Reason"/> once nothing blocks one any more.
/// Published once per change, not repeated while the block lasts: alert on it.
/// </summary>
/// <param name="Formation">Formation.</param>
/// <param name="GroupId">Group.</param>
/// <param name="Primary">The unhealthy primary no failover will replace; null if the group has none.</param>
/// <param name="Reason">Why no failover will happen, with what would allow one; null when the block has ended.</param>
/// <param name="GroupVersion">Version of the group's event stream after this decision.</param>
/// <param name="OccurredAt">Monitor time of the decision.</param>
public sealed record FailoverBlocked(
    string Formation, int GroupId, NodeAddress? Primary, string? Reason, long GroupVersion, DateTimeOffset OccurredAt);

namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: planned switchover of the group's primary (same rules as a failover, from a healthy primary).</summary>
/// <param name="Formation">Formation.</param>
/// <param name="GroupId">Group.</param>
public sealed record PerformSwitchover(string Formation, int GroupId);

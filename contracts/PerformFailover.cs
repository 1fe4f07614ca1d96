namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: fail over the group's primary to the best candidate.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="GroupId">Group.</param>
public sealed record PerformFailover(string Formation, int GroupId);

namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: the most recent events of a formation (docs/operations.md). Answered by <see cref="FormationEvents"/>.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="GroupId">Only this group, or null for every group.</param>
/// <param name="Count">How many events at most, newest last.</param>
public sealed record GetEvents(string Formation, int? GroupId, int Count);

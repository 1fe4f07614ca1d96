namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: replication settings of a formation (docs/operations.md). Answered by <see cref="FormationSettings"/>.</summary>
/// <param name="Formation">Formation.</param>
public sealed record GetSettings(string Formation);

namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: replication settings of a formation (spec §4.5). Answered by <see cref="FormationSettings"/>.</summary>
/// <param name="Formation">Formation.</param>
public sealed record GetSettings(string Formation);

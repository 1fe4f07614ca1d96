namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: fail over the group's primary to the best candidate.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="GroupId">Group.</param>
/// <param name="AllowDataLoss">
/// Decide an election that waits for standbys whose WAL position is unknown (they may hold acknowledged writes):
/// the best candidate that reported is elected, and writes it lacks are lost. False (the default, and what an
/// older pgaf sends) keeps the wait.
/// </param>
public sealed record PerformFailover(string Formation, int GroupId, bool AllowDataLoss = false);

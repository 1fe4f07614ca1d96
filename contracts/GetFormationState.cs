namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: the state table of a formation. Answered by <see cref="FormationState"/> or <see cref="OperatorCommandRefused"/>.</summary>
/// <param name="Formation">Formation.</param>
public sealed record GetFormationState(string Formation);

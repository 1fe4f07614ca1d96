namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: create a formation. Answered by <see cref="OperatorCommandSucceeded"/> or <see cref="OperatorCommandRefused"/>.</summary>
/// <param name="Formation">Name of the new formation.</param>
/// <param name="DatabaseName">Application database name (default postgres).</param>
/// <param name="NumberSyncStandbys">Initial number_sync_standbys.</param>
public sealed record CreateFormation(string Formation, string DatabaseName, int NumberSyncStandbys);

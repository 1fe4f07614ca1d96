namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: set a formation's number_sync_standbys.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="NumberSyncStandbys">New value (0 or more).</param>
public sealed record SetNumberSyncStandbys(string Formation, int NumberSyncStandbys);

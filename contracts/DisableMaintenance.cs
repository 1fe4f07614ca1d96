namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: return a node from maintenance to automation.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="NodeId">Node.</param>
public sealed record DisableMaintenance(string Formation, long NodeId);

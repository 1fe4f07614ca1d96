namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: take a node out of automation.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="NodeId">Node.</param>
/// <param name="AllowFailover">For the primary: allow a failover so that it can go to maintenance.</param>
public sealed record EnableMaintenance(string Formation, long NodeId, bool AllowFailover);

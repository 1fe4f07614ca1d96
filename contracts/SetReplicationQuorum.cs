namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: set whether a node takes part in synchronous_standby_names.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="NodeId">Node.</param>
/// <param name="ReplicationQuorum">New flag.</param>
public sealed record SetReplicationQuorum(string Formation, long NodeId, bool ReplicationQuorum);

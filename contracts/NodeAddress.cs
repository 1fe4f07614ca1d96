namespace PgAutoFailover.Contracts;

/// <summary>Identity and address of one node, as carried inside other messages.</summary>
/// <param name="Formation">Formation the node belongs to.</param>
/// <param name="GroupId">Group within the formation (0 for a pgsql formation).</param>
/// <param name="NodeId">Monitor-assigned node id, unique in the monitor.</param>
/// <param name="NodeName">Node name, unique in the formation.</param>
/// <param name="Host">Host name or address applications and peers connect to.</param>
/// <param name="Port">PostgreSQL port.</param>
public sealed record NodeAddress(string Formation, int GroupId, long NodeId, string NodeName, string Host, int Port);

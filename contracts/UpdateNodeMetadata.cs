namespace PgAutoFailover.Contracts;

/// <summary>
/// Operator (or the node's keeper after a reload) → monitor: rename or re-address a node (update_node_metadata,
/// docs/states.md#operator-commands). Null leaves a field unchanged. Answered with <see cref="OperatorCommandSucceeded"/> or
/// <see cref="OperatorCommandRefused"/>; the new topology is published as <see cref="FormationTopologyChanged"/>.
/// </summary>
/// <param name="Formation">Formation of the node.</param>
/// <param name="GroupId">Group of the node, or null for whichever group holds <paramref name="NodeId"/>.</param>
/// <param name="NodeId">Node to update.</param>
/// <param name="Name">New node name (unique in the formation), or null to keep it.</param>
/// <param name="Host">New host name or address (host:port unique across the monitor), or null to keep it.</param>
/// <param name="Port">New PostgreSQL port (1..65535), or null to keep it.</param>
public sealed record UpdateNodeMetadata(string Formation, int? GroupId, long NodeId, string? Name = null, string? Host = null, int? Port = null);

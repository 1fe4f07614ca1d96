namespace PgAutoFailover.Contracts;

/// <summary>Published by the uri-service when a formation's connection string or primary changes.</summary>
/// <param name="Formation">Formation name.</param>
/// <param name="ConnectionString">Multi-host URI with target_session_attrs=read-write.</param>
/// <param name="Primary">Node currently accepting writes; null if none.</param>
/// <param name="TopologyVersion">Version of the topology snapshot this was computed from.</param>
/// <param name="OccurredAt">When the change was seen.</param>
public sealed record ConnectionStringChanged(
    string Formation, string ConnectionString, NodeAddress? Primary, long TopologyVersion, DateTimeOffset OccurredAt);

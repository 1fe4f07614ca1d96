namespace PgAutoFailover.Contracts;

/// <summary>
/// Published with the full topology of a formation whenever any node of it changes.
/// <paramref name="Version"/> grows with every snapshot of the formation, so a consumer can
/// recognise and ignore a stale one.
/// </summary>
/// <param name="Formation">Formation name.</param>
/// <param name="DatabaseName">Application database name for connection strings.</param>
/// <param name="Version">Monotonic version of this formation's topology.</param>
/// <param name="Nodes">Every node of the formation, ordered by node id.</param>
/// <param name="OccurredAt">Monitor time of the snapshot.</param>
public sealed record FormationTopologyChanged(
    string Formation, string DatabaseName, long Version, IReadOnlyList<NodeSnapshot> Nodes, DateTimeOffset OccurredAt);

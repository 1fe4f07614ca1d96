namespace PgAutoFailover.Contracts;

/// <summary>Monitor answer to <see cref="GetTopology"/>: the latest snapshot of each formation.</summary>
/// <param name="Formations">One snapshot per formation.</param>
public sealed record TopologySnapshot(IReadOnlyList<FormationTopologyChanged> Formations);

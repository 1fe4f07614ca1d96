namespace PgAutoFailover.Contracts;

/// <summary>Monitor → operator: every node of a formation with the columns of docs/operations.md.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="DatabaseName">Application database name.</param>
/// <param name="NumberSyncStandbys">Formation's number_sync_standbys.</param>
/// <param name="Nodes">Nodes ordered by node id.</param>
/// <param name="AutomaticFailover">False while an operator paused automatic failover (pgaf disable automatic-failover).</param>
public sealed record FormationState(string Formation, string DatabaseName, int NumberSyncStandbys, IReadOnlyList<NodeSnapshot> Nodes, bool AutomaticFailover = true);

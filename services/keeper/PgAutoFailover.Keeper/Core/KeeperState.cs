using PgAutoFailover.Contracts;

namespace PgAutoFailover.Keeper.Core;

/// <summary>
/// The keeper's persisted state (services/keeper/README.md pg_autoctl.state): who the node is, the state it last
/// reached (written only after a transition succeeded), the goal it was last assigned, and the
/// report sequence (strictly increasing across restarts).
/// </summary>
public sealed record KeeperState
{
    public int FormatVersion { get; init; } = 1;
    public string Formation { get; init; } = "default";
    public long NodeId { get; init; }
    public int GroupId { get; init; }
    public string NodeName { get; init; } = "";
    /// <summary>Host the monitor holds for this node (registration, then accepted updates); null in older state files.</summary>
    public string? Host { get; init; }
    /// <summary>Port the monitor holds for this node; null in older state files.</summary>
    public int? Port { get; init; }
    public NodeState CurrentState { get; init; } = NodeState.Init;
    public NodeState AssignedState { get; init; } = NodeState.Init;
    /// <summary>The whole last goal (primary address, synchronous_standby_names, upstream) so an unfinished transition can be retried offline.</summary>
    public NodeGoal? LastGoal { get; init; }
    /// <summary>Highest AssignGoalState.GroupVersion seen; older pushes are dropped.</summary>
    public long LastGroupVersion { get; init; }
    public long ReportSequence { get; init; }
    /// <summary>Keeper run the reports belong to: raised at every start and when the monitor refuses a report as stale (0 in older state files).</summary>
    public long ReportEpoch { get; init; }
    /// <summary>System identifier of the data directory this node manages; a different one is refused.</summary>
    public ulong? SystemIdentifier { get; init; }
    /// <summary>Whether the data directory existed (adopted) at create time.</summary>
    public bool PgDataExistedAtCreate { get; init; }
    public DateTimeOffset? LastMonitorContact { get; init; }
    /// <summary>Last transition or check error, for the operator (also logged).</summary>
    public string? LastError { get; init; }
}

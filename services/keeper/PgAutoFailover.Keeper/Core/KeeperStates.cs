using PgAutoFailover.Contracts;

namespace PgAutoFailover.Keeper.Core;

/// <summary>State classes of docs/states.md#node-states as the keeper uses them.</summary>
public static class KeeperStates
{
    /// <summary>States in which the node may accept writes (docs/states.md#node-states "can take writes").</summary>
    public static bool IsWritable(NodeState state) => state is NodeState.Single or NodeState.WaitPrimary or NodeState.Primary
        or NodeState.JoinPrimary or NodeState.ApplySettings;

    /// <summary>States in which PostgreSQL must be down (split-brain guard, docs/states.md#keeper-transitions).</summary>
    public static bool MustBeStopped(NodeState state) => state is NodeState.Draining or NodeState.DemoteTimeout or NodeState.Demoted
        or NodeState.Dropped or NodeState.JoinSecondary or NodeState.PrepareMaintenance;

    /// <summary>Standby states in which PostgreSQL must run (docs/states.md#keeper-transitions).</summary>
    public static bool MustRunAsStandby(NodeState state) => state is NodeState.Secondary or NodeState.CatchingUp or NodeState.ReportLsn
        or NodeState.FastForward or NodeState.WaitMaintenance;

    /// <summary>snake_case name as in pg_auto_failover's logs.</summary>
    public static string Name(NodeState state) => NodeStateNames.Of(state);
}

using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>pg_auto_failover's snake_case names of the states (the names on the wire).</summary>
public static class StateNames
{
    public static string Of(NodeState state) => state switch
    {
        NodeState.Unknown => "unknown",
        NodeState.Init => "init",
        NodeState.Single => "single",
        NodeState.WaitPrimary => "wait_primary",
        NodeState.Primary => "primary",
        NodeState.Draining => "draining",
        NodeState.DemoteTimeout => "demote_timeout",
        NodeState.Demoted => "demoted",
        NodeState.CatchingUp => "catchingup",
        NodeState.Secondary => "secondary",
        NodeState.PreparePromotion => "prepare_promotion",
        NodeState.StopReplication => "stop_replication",
        NodeState.WaitStandby => "wait_standby",
        NodeState.Maintenance => "maintenance",
        NodeState.JoinPrimary => "join_primary",
        NodeState.ApplySettings => "apply_settings",
        NodeState.PrepareMaintenance => "prepare_maintenance",
        NodeState.WaitMaintenance => "wait_maintenance",
        NodeState.ReportLsn => "report_lsn",
        NodeState.FastForward => "fast_forward",
        NodeState.JoinSecondary => "join_secondary",
        NodeState.Dropped => "dropped",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>Length of the longest name, prepare_maintenance: the state columns are this wide so a watched table does not move.</summary>
    public const int Width = 19;
}

using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>
/// The Connection column of show state (docs/states.md#node-states): read-write, read-only or none from the
/// reported state, followed by " !" when the monitor's health verdict is bad and " ?" when it is unknown.
/// </summary>
public static class ConnectionColumn
{
    public static string Of(NodeState reportedState) => reportedState switch
    {
        NodeState.Single or NodeState.WaitPrimary or NodeState.Primary or NodeState.JoinPrimary
            or NodeState.ApplySettings or NodeState.PrepareMaintenance => "read-write",
        NodeState.CatchingUp or NodeState.Secondary or NodeState.PreparePromotion or NodeState.StopReplication
            or NodeState.WaitMaintenance or NodeState.ReportLsn or NodeState.FastForward or NodeState.JoinSecondary => "read-only",
        _ => "none",
    };

    public static string Of(NodeState reportedState, NodeHealth health) => Of(reportedState) + health switch
    {
        NodeHealth.Bad => " !",
        NodeHealth.Unknown => " ?",
        _ => "",
    };
}

using PgAutoFailover.Contracts;

namespace PgAutoFailover.Monitor.Core;

/// <summary>State families of docs/states.md#node-states.</summary>
public static class States
{
    /// <summary>WritableGoal: a node in (or going to) one of these may accept writes.</summary>
    public static bool IsWritable(NodeState s) =>
        s is NodeState.Single or NodeState.WaitPrimary or NodeState.Primary or NodeState.JoinPrimary or NodeState.ApplySettings;

    /// <summary>PrimaryBelonging: writable, or a primary being demoted.</summary>
    public static bool IsPrimaryBelonging(NodeState s) =>
        IsWritable(s) || s is NodeState.Draining or NodeState.DemoteTimeout or NodeState.PrepareMaintenance;

    /// <summary>InMaintenance goal.</summary>
    public static bool IsMaintenance(NodeState s) =>
        s is NodeState.PrepareMaintenance or NodeState.WaitMaintenance or NodeState.Maintenance;

    /// <summary>
    /// States in which a node may stream WAL from the primary (and acknowledge its commits). prepare_promotion
    /// is included because entering it does not stop the WAL receiver (K49 is a no-op).
    /// </summary>
    /// <summary>
    /// What a standby's keeper reports as its replication state when its WAL receiver is not streaming
    /// (a standby reports "streaming" otherwise). Lets the lease wait start when replication really stopped.
    /// </summary>
    public const string StandbyNotStreaming = "disconnected";

    public static bool IsStreaming(NodeState s) =>
        s is NodeState.Secondary or NodeState.CatchingUp or NodeState.WaitMaintenance or NodeState.PreparePromotion;

    /// <summary>Standby states in which PostgreSQL runs and can serve WAL to a node fast-forwarding from it.</summary>
    public static bool ServesWal(NodeState s) =>
        s is NodeState.ReportLsn or NodeState.Secondary or NodeState.CatchingUp or NodeState.FastForward
            or NodeState.PreparePromotion or NodeState.WaitMaintenance;

    /// <summary>
    /// Keeper transition table (docs/states.md#keeper-transitions K1–K77 plus the [main] edges): the states a keeper in
    /// <paramref name="from"/> knows how to reach. The monitor only assigns a goal the keeper can reach
    /// (checked by tests against every assignment).
    /// </summary>
    public static bool KeeperCanReach(NodeState from, NodeState to)
    {
        if (from == to || to == NodeState.Dropped) return true; // K77
        return KeeperEdges.TryGetValue(to, out var sources) && sources.Contains(from);
    }

    private static readonly NodeState[] MainStopEdges =
    [
        NodeState.Init, NodeState.Single, NodeState.CatchingUp, NodeState.Secondary, NodeState.PreparePromotion,
        NodeState.StopReplication, NodeState.ReportLsn, NodeState.FastForward, NodeState.Maintenance,
        NodeState.PrepareMaintenance, NodeState.WaitMaintenance, NodeState.Demoted,
    ];

    private static readonly Dictionary<NodeState, HashSet<NodeState>> KeeperEdges = new()
    {
        // K26-K35 and the [main] "another node is taking over" edges.
        [NodeState.Demoted] =
        [
            NodeState.Primary, NodeState.JoinPrimary, NodeState.ApplySettings, NodeState.WaitPrimary,
            NodeState.Draining, NodeState.DemoteTimeout, .. MainStopEdges,
        ],
        [NodeState.DemoteTimeout] =
        [
            NodeState.Primary, NodeState.JoinPrimary, NodeState.ApplySettings, NodeState.Draining, .. MainStopEdges,
        ],
        [NodeState.Single] =
        [
            NodeState.Init, NodeState.Dropped, NodeState.Primary, NodeState.WaitPrimary, NodeState.JoinPrimary,
            NodeState.ApplySettings, NodeState.Demoted, NodeState.DemoteTimeout, NodeState.Draining,
            NodeState.Secondary, NodeState.CatchingUp, NodeState.PreparePromotion, NodeState.StopReplication,
            NodeState.ReportLsn, NodeState.FastForward, NodeState.WaitMaintenance,
        ],
        [NodeState.WaitStandby] = [NodeState.Init, NodeState.Dropped, NodeState.Secondary],
        [NodeState.ReportLsn] =
        [
            NodeState.Init, NodeState.Dropped, NodeState.Secondary, NodeState.CatchingUp, NodeState.Maintenance,
            NodeState.PrepareMaintenance, NodeState.Draining, NodeState.Demoted, NodeState.DemoteTimeout,
            NodeState.PreparePromotion, NodeState.StopReplication, NodeState.FastForward, NodeState.JoinSecondary,
            NodeState.WaitMaintenance,
        ],
        [NodeState.WaitPrimary] =
        [
            NodeState.Single, NodeState.Primary, NodeState.JoinPrimary, NodeState.ApplySettings,
            NodeState.StopReplication, NodeState.PreparePromotion,
        ],
        [NodeState.Primary] =
        [
            NodeState.WaitPrimary, NodeState.JoinPrimary, NodeState.ApplySettings, NodeState.DemoteTimeout,
        ],
        [NodeState.ApplySettings] = [NodeState.Primary, NodeState.WaitPrimary],
        [NodeState.JoinPrimary] = [NodeState.Primary, NodeState.WaitPrimary, NodeState.ApplySettings],
        [NodeState.Draining] = [NodeState.Primary, NodeState.JoinPrimary, NodeState.ApplySettings],
        [NodeState.CatchingUp] =
        [
            NodeState.WaitStandby, NodeState.Demoted, NodeState.Secondary, NodeState.Maintenance,
            NodeState.PrepareMaintenance,
        ],
        [NodeState.Secondary] = [NodeState.CatchingUp, NodeState.ReportLsn, NodeState.JoinSecondary],
        [NodeState.PreparePromotion] =
        [
            NodeState.Secondary, NodeState.CatchingUp, NodeState.ReportLsn, NodeState.FastForward,
        ],
        [NodeState.StopReplication] = [NodeState.PreparePromotion],
        [NodeState.WaitMaintenance] = [NodeState.Secondary, NodeState.CatchingUp],
        [NodeState.Maintenance] =
        [
            NodeState.Secondary, NodeState.CatchingUp, NodeState.WaitMaintenance, NodeState.Primary,
            NodeState.PrepareMaintenance,
        ],
        [NodeState.PrepareMaintenance] = [NodeState.Primary],
        [NodeState.FastForward] = [NodeState.ReportLsn],
        [NodeState.JoinSecondary] = [NodeState.ReportLsn],
    };
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;
using static PgAutoFailover.Contracts.NodeState;
using static PgAutoFailover.Monitor.Core.Rules.RuleContext;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>
/// docs/states.md#operator-commands: API-triggered rules. Each command checks its preconditions in order and refuses with the
/// reason of the first that fails; a refusal changes nothing (the decision's events are discarded).
/// </summary>
internal static partial class OperatorRules
{
    public static readonly string[] RuleIds =
    [
        "API-FAILOVER", "API-FAILOVER-ALLOW-DATA-LOSS", "API-FAILOVER-FRESH", "API-PROMOTION", "API-START-MAINTENANCE", "API-STOP-MAINTENANCE",
        "API-SET-CANDIDATE-PRIORITY", "API-SET-REPLICATION-QUORUM", "API-SET-NUMBER-SYNC-STANDBYS", "API-REMOVE-NODE",
        "API-UPDATE-NODE-METADATA", "API-SET-AUTOMATIC-FAILOVER",
    ];

    public static Decision Execute(DecisionContext ctx, OperatorTrigger command) => command switch
    {
        FailoverCommand f => Failover(ctx, f.AllowDataLoss, f.Switchover ? "operator switchover" : "operator failover", f.Switchover),
        PromotionCommand p => Promotion(ctx, p.NodeId),
        EnableMaintenanceCommand m => StartMaintenance(ctx, m.NodeId, m.AllowFailover),
        DisableMaintenanceCommand m => StopMaintenance(ctx, m.NodeId),
        SetCandidatePriorityCommand s => SetCandidatePriority(ctx, s.NodeId, s.CandidatePriority),
        SetReplicationQuorumCommand q => SetReplicationQuorum(ctx, q.NodeId, q.ReplicationQuorum),
        SetNumberSyncStandbysCommand n => SetNumberSyncStandbys(ctx, n.NumberSyncStandbys),
        SetAutomaticFailoverCommand a => SetAutomaticFailover(ctx, a.Enabled),
        DropNodeCommand d => RemoveNode(ctx, d.NodeId, d.Force),
        UpdateNodeMetadataCommand m => UpdateNodeMetadata(ctx, m),
        _ => Refuse($"unknown command {command.GetType().Name}"),
    };

    // ---- perform_failover / perform_switchover ---------------------------------------------------

    private static Decision Failover(DecisionContext ctx, bool allowDataLoss, string reason, bool switchover = false)
    {
        if (ctx.N < 2) return Refuse("cannot fail over: at least 2 nodes are required");
        var primary = ctx.Nodes.FirstOrDefault(n => Conv(n, NodeState.Single, Primary, JoinPrimary));
        if (primary is null)
        {
            // [main] --allow-data-loss: an election stuck on the data-loss guard is decided now, guard off.
            if (allowDataLoss && ctx.Nodes.FirstOrDefault(n => n.IsConverged(ReportLsn)) is { } voter)
            {
                ctx.GuardDataLoss = false;
                ctx.Note("API-FAILOVER-ALLOW-DATA-LOSS: election run with guard_data_loss off");
                var before = ctx.Assignments.Count;
                new RuleContext(ctx, voter.NodeId).Run(GroupStateMachineRules.Table);
                return ctx.Assignments.Count > before
                    ? ctx.ToDecision()
                    : Refuse("cannot fail over: even without the data-loss guard no candidate can be elected"
                             + (ctx.ToDecision().Notices.LastOrDefault() is { } why ? $" ({why})" : ""));
            }
            if (StuckElection(ctx) is { } stuck) return Refuse($"cannot fail over: {stuck}");
            if (ctx.Nodes.FirstOrDefault(n => n.IsConverged(WaitPrimary)) is { } alone)
                return Refuse($"cannot fail over: {alone.Label} is already the group's primary, in wait_primary: no standby can take over from it yet");
            if (ctx.Nodes.FirstOrDefault(n => DecisionContext.BeingPromoted(n) || n.GoalState is PreparePromotion or StopReplication or FastForward) is { } next)
                return Refuse($"cannot fail over: a failover is already under way: {next.Label} is being promoted (goal {DecisionContext.Display(next.GoalState)})");
            return Refuse("cannot fail over: couldn't find the primary node (a wait_primary primary cannot be failed over from)");
        }

        var others = ctx.Others(primary).ToList();
        if (!others.Any(o => o.CandidatePriority > 0))
            return Refuse(others.Count == 1
                ? $"cannot fail over: node {others[0].NodeId} has candidate priority 0"
                : "cannot fail over: every other node has candidate priority 0");
        if (!ctx.HealthyCandidates(others).Any())
            return Refuse("cannot fail over: no candidate node is healthy");
        if (CandidatesSilent(ctx, others) is { } silent) return Refuse($"cannot fail over: {silent}");
        if (switchover && !ctx.Reporting(primary))
            return Refuse($"cannot switch over: primary {Silence(ctx, primary)}; retry when it is healthy");

        if (ctx.N == 2)
        {
            var standby = others[0];
            if (standby.GoalState != Secondary)
                return Refuse($"cannot fail over: {standby.Label} is in state {DecisionContext.Display(standby.GoalState)}, expected secondary");
            if (!Conv(primary, Primary) || !Conv(standby, Secondary))
                return Refuse("cannot fail over: primary node is not in a stable state");
            ctx.BeginFailover(primary, reason, planned: true);
            ctx.Assign(primary.NodeId, Draining, "API-FAILOVER", reason);
            ctx.Assign(standby.NodeId, PreparePromotion, "API-FAILOVER", reason);
            return ctx.ToDecision();
        }

        ctx.BeginFailover(primary, reason, planned: true);
        ctx.Assign(primary.NodeId, Draining, "API-FAILOVER", reason);
        ctx.Emit(new CandidatePriorityChanged(primary.NodeId, ctx.Node(primary.NodeId).CandidatePriority - 101,
            $"{primary.Label} must not win the election it started", ctx.Now));
        if (allowDataLoss) ctx.GuardDataLoss = false;
        new RuleContext(ctx, ctx.Others(primary).First().NodeId).Run(GroupStateMachineRules.Table);
        return ctx.ToDecision();
    }

    /// <summary>
    /// An election waiting on the data-loss guard, described for the operator who asks for a failover: who it waits
    /// for, the best candidate it would elect, and how far that candidate is behind what the old primary last
    /// reported (acknowledged writes past the candidate's position would be lost). Null when no election is waiting.
    /// </summary>
    private static string? StuckElection(DecisionContext ctx)
    {
        var voters = ctx.Nodes.Where(n => n.IsConverged(ReportLsn)).ToList();
        var best = voters.Where(n => n.CandidatePriority > 0).OrderByDescending(n => n.Lsn).ThenBy(n => n.NodeId).FirstOrDefault();
        if (best is null) return null;
        var oldPrimary = ctx.State.Failover?.OldPrimaryId is { } id ? ctx.Nodes.FirstOrDefault(n => n.NodeId == id) : null;
        var waitingFor = ctx.Nodes.Where(n => !n.IsConverged(ReportLsn) && n.NodeId != oldPrimary?.NodeId).Select(n => n.Label).ToList();
        var behind = oldPrimary is { } p && p.Lsn > best.Lsn
            ? $", {p.Lsn - best.Lsn} bytes behind what {p.Label} last reported ({Lsn(p.Lsn)})"
            : oldPrimary is not null ? $", not behind what {oldPrimary.Label} last reported ({Lsn(oldPrimary.Lsn)})" : "";
        var who = waitingFor.Count > 0 ? $"the WAL position of {string.Join(", ", waitingFor)}" : "every quorum standby's WAL position";
        return $"the election waits for {who}, which may hold acknowledged writes; the best candidate, {best.Label}, " +
               $"has WAL up to {Lsn(best.Lsn)}{behind}; --allow-data-loss elects it without waiting, losing any write it lacks";
    }

    private static string Lsn(ulong lsn) => $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}";

    /// <summary>
    /// API-FAILOVER-FRESH: why no healthy candidate among <paramref name="others"/> can take over now, or null. A keeper
    /// that is not reporting (e.g. right after a broker outage) would learn its goal late while the other nodes move on
    /// without it. (A switchover, or maintenance of the primary, also needs the primary's keeper to drain.)
    /// </summary>
    private static string? CandidatesSilent(DecisionContext ctx, IReadOnlyList<MonitorNode> others) =>
        ctx.HealthyCandidates(others).Any(ctx.Reporting) ? null
        : others.Count == 1 ? $"standby {Silence(ctx, others[0])}; retry when it is healthy"
        : $"no healthy candidate has reported in the last {ctx.Options.KeeperSilenceTimeout.TotalSeconds:0.#} s; retry when one is healthy";

    /// <summary>"node 2 … has not reported for 12 s" (or "has never reported").</summary>
    private static string Silence(DecisionContext ctx, MonitorNode n) => $"{n.Label} {SilentFor(ctx, n)}";

    private static string SilentFor(DecisionContext ctx, MonitorNode n) => n.LastReportAt is { } at
        ? $"has not reported for {(ctx.Now - at).TotalSeconds:0} s"
        : "has never reported";

    // ---- perform_promotion ------------------------------------------------------------------------

    private static Decision Promotion(DecisionContext ctx, long nodeId)
    {
        if (ctx.State.Find(nodeId) is not { } node || node.GoalState == Dropped) return Unknown(nodeId);
        if (Conv(node, NodeState.Single, Primary))
        {
            ctx.Note($"{node.Label} is already a primary");
            return ctx.ToDecision();
        }
        if (ctx.N == 1 && node.ReportedState is JoinSecondary or PrepareMaintenance)
        {
            // MAIN-ALONE-FROZEN keeps a lone node whose data may be stale away from single; promoting it is the
            // operator's explicit acceptance of that data (report_lsn, then GSM-4).
            ctx.Assign(nodeId, ReportLsn, "API-PROMOTION", "operator accepts the data of the last node left");
            return ctx.ToDecision();
        }
        if (!Conv(node, Secondary, ReportLsn))
            return Refuse($"cannot promote {node.Label}: it is in state {DecisionContext.Display(node.ReportedState)}, expected secondary");
        if (node.CandidatePriority <= 0)
            return Refuse($"cannot promote: node {node.NodeId} has candidate priority 0");
        if (!ctx.Healthy(node))
            return Refuse($"cannot promote {node.Label}: it is not healthy");
        if (!ctx.Reporting(node))
            return Refuse($"cannot promote: {Silence(ctx, node)}; retry when it is healthy");
        if (ctx.N > 2)
            ctx.Emit(new CandidatePriorityChanged(nodeId, node.CandidatePriority + 101, $"perform promotion of {node.Label}", ctx.Now));
        return Failover(ctx, allowDataLoss: false, $"operator promotion of node {nodeId}");
    }

    // ---- remove_node -------------------------------------------------------------------------------

    private static Decision RemoveNode(DecisionContext ctx, long nodeId, bool force)
    {
        if (ctx.State.Find(nodeId) is not { } node) return Unknown(nodeId);
        if (node.IsConverged(Dropped) || force)
        {
            if (force && Lease.FencedAt(ctx.State, node, ctx.Options, ctx.Now) is { } fenced && fenced > ctx.Now)
                return Refuse($"cannot force the removal of {node.Label}: it may still accept writes {Lease.Until(ctx.State, ctx.Options, ctx.Now, fenced)}"
                              + (fenced == DateTimeOffset.MaxValue ? "" : "; retry then"));
            ctx.Emit(new NodeRemoved(nodeId, $"Removing {node.Label}{(force ? " (forced)" : "")}", ctx.Now));
            if (States.IsWritable(node.GoalState) && ctx.N > 0)
            {
                ctx.BeginFailover(node, $"{node.Label} removed", planned: true);
                new RuleContext(ctx, ctx.Nodes[0].NodeId).Run(GroupStateMachineRules.Table);
            }
            return ctx.ToDecision();
        }
        if (node.GoalState == Dropped) return ctx.ToDecision();

        var wasPrimary = States.IsWritable(node.GoalState);
        if (wasPrimary)
        {
            ctx.BeginFailover(node, $"{node.Label} removed", planned: true);
            // Nodes that never got data (init, wait_standby) have no keeper edge to report_lsn: they wait for the new primary.
            // An old primary still reporting a primary state keeps its demotion goal (no keeper edge to report_lsn).
            foreach (var o in ctx.Others(node).Where(o => !DecisionContext.InMaintenance(o) && o.ReportedState is not (Init or WaitStandby)
                                                          && !States.IsPrimaryBelonging(o.ReportedState)).ToList())
                ctx.Assign(o.NodeId, ReportLsn, "API-REMOVE-NODE", $"the primary {node.Label} is being removed");
        }
        ctx.Assign(nodeId, Dropped, "API-REMOVE-NODE", "operator dropped the node");

        var nss = ctx.State.Settings.NumberSyncStandbys;
        var c = ctx.Nodes.Count(o => o.ReplicationQuorum) - 1;
        if (c < nss + 1)
        {
            var newNss = Math.Max(0, c - 1);
            if (newNss != nss) ctx.Emit(new NumberSyncStandbysChanged(newNss, $"{node.Label} removed", ctx.Now));
        }

        if (ctx.N == 0) return ctx.ToDecision();
        if (wasPrimary)
        {
            new RuleContext(ctx, ctx.Nodes[0].NodeId).Run(GroupStateMachineRules.Table);
        }
        else if (ctx.Primary is { } p && States.IsWritable(p.GoalState))
        {
            var before = p.GoalState;
            new RuleContext(ctx, p.NodeId).Run(GroupStateMachineRules.Table);
            if (ctx.Node(p.NodeId).GoalState == before && before != ApplySettings)
                RefreshPrimarySettings(ctx, "API-REMOVE-NODE", $"{node.Label} removed: refresh synchronous_standby_names");
        }
        return ctx.ToDecision();
    }

    private static Decision Unknown(long nodeId) =>
        Decision.Refused(new Refusal(RefusalKind.UnknownNode, $"node {nodeId} is not registered in this group"));

    private static Decision Refuse(string reason) => Decision.Refused(new Refusal(RefusalKind.CommandRefused, reason));
}

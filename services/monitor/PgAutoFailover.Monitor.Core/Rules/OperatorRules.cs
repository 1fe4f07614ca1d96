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
internal static class OperatorRules
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

    // ---- start_maintenance / stop_maintenance ------------------------------------------------------

    private static Decision StartMaintenance(DecisionContext ctx, long nodeId, bool allowFailover)
    {
        if (ctx.State.Find(nodeId) is not { } node || node.GoalState == Dropped) return Unknown(nodeId);
        if (node.ReportedState == Maintenance || node.GoalState == Maintenance) return ctx.ToDecision();

        if (Conv(node, Primary))
        {
            if (!allowFailover)
                return Refuse($"cannot start maintenance on {node.Label}: it is the primary; use --allow-failover");
            var others = ctx.Others(node).ToList();
            if (!ctx.HealthyCandidates(others).Any())
                return Refuse($"cannot start maintenance on {node.Label}: not currently possible with 0 candidate nodes");
            // As for a switchover: with two nodes the only other node gets prepare_promotion, silent or not.
            if (CandidatesSilent(ctx, others) is { } silent) return Refuse($"cannot start maintenance on {node.Label}: {silent}");
            if (!ctx.Reporting(node))
                return Refuse($"cannot start maintenance on {node.Label}: it {SilentFor(ctx, node)}; retry when it is healthy");
            ctx.BeginFailover(node, $"maintenance of {node.Label}", planned: true);
            ctx.Assign(nodeId, PrepareMaintenance, "API-START-MAINTENANCE", "operator enabled maintenance");
            if (ctx.N == 2)
                ctx.Assign(ctx.Others(node).First().NodeId, PreparePromotion, "API-START-MAINTENANCE", $"{node.Label} goes to maintenance");
            else
                new RuleContext(ctx, ctx.Others(node).First().NodeId).Run(GroupStateMachineRules.Table);
            return ctx.ToDecision();
        }

        if (node.ReportedState is Secondary or CatchingUp && ctx.Primary is { } p && Conv(p, Primary))
        {
            var syncStandbys = ctx.HealthySyncStandbys(ctx.Others(p)).ToList();
            if (ctx.State.Settings.NumberSyncStandbys > 0 && syncStandbys.Any(s => s.NodeId == nodeId)
                && syncStandbys.Count <= ctx.State.Settings.NumberSyncStandbys)
                ctx.Note($"warning: writes will block while {node.Label} is in maintenance (number_sync_standbys = {ctx.State.Settings.NumberSyncStandbys})");
            if (ctx.State.Settings.NumberSyncStandbys == 0 && syncStandbys.Count == 1 && syncStandbys[0].NodeId == nodeId)
            {
                ctx.Assign(p.NodeId, WaitPrimary, "API-START-MAINTENANCE", $"{node.Label}, the last sync standby, goes to maintenance");
                ctx.Assign(nodeId, WaitMaintenance, "API-START-MAINTENANCE", "operator enabled maintenance");
            }
            else
            {
                ctx.Assign(nodeId, Maintenance, "API-START-MAINTENANCE", "operator enabled maintenance");
            }
            return ctx.ToDecision();
        }
        return Refuse($"cannot start maintenance on {node.Label}: it is in state {DecisionContext.Display(node.ReportedState)}; " +
                      "expected a converged primary, or a secondary or catchingup standby of a converged primary");
    }

    private static Decision StopMaintenance(DecisionContext ctx, long nodeId)
    {
        if (ctx.State.Find(nodeId) is not { } node || node.GoalState == Dropped) return Unknown(nodeId);
        if (!Conv(node, Maintenance, PrepareMaintenance))
            return Refuse($"cannot stop maintenance on {node.Label}: it is in state {DecisionContext.Display(node.ReportedState)}, not maintenance");
        if (ctx.N == 1)
        {
            new RuleContext(ctx, nodeId).Run(SingleNodeTable);
            return ctx.ToDecision();
        }
        if (ctx.Primary is null || ctx.Primary.NodeId == nodeId)
        {
            // Upstream refuses with N = 2 (and for prepare_maintenance); joining an election instead lets the
            // node that holds the data come back when the other node has none (found by the property walks;
            // the election guards still apply).
            ctx.Assign(nodeId, ReportLsn, "API-STOP-MAINTENANCE", "no primary: join the election");
        }
        else if (ctx.FailoverInProgress)
        {
            ctx.Assign(nodeId, ReportLsn, "API-STOP-MAINTENANCE", "a failover is in progress: join the election");
        }
        else
        {
            ctx.Assign(nodeId, CatchingUp, "API-STOP-MAINTENANCE", $"rejoin {ctx.Primary.Label}");
        }
        return ctx.ToDecision();
    }

    /// <summary>stop_maintenance with N = 1 runs the state machine, which leaves a converged maintenance node alone (GSM-3): skip GSM-3.</summary>
    private static readonly Rule[] SingleNodeTable = [.. GroupStateMachineRules.Table.Where(r => r.Id != "GSM-3")];

    // ---- settings -----------------------------------------------------------------------------------

    private static Decision SetCandidatePriority(DecisionContext ctx, long nodeId, int priority)
    {
        if (ctx.State.Find(nodeId) is not { } node || node.GoalState == Dropped) return Unknown(nodeId);
        if (priority is < 0 or > 100) return Refuse($"candidate priority must be between 0 and 100, not {priority}");
        if (ApplySettingsBlocked(ctx) is { } blocked) return Refuse($"cannot set candidate priority of {node.Label}: {blocked}");
        if (priority == 0 && ctx.Others(node).All(o => o.CandidatePriority <= 0))
            ctx.Note("setting candidate priority 0 on every node prevents automated failover");
        ctx.Emit(new CandidatePriorityChanged(nodeId, priority,
            $"Operator set the candidate priority of {node.Label} from {node.CandidatePriority} to {priority}", ctx.Now));
        RefreshPrimarySettings(ctx, "API-SET-CANDIDATE-PRIORITY", $"candidate priority of {node.Label} changed");
        FailoverWatch.Update(ctx);
        return ctx.ToDecision();
    }

    private static Decision SetReplicationQuorum(DecisionContext ctx, long nodeId, bool quorum)
    {
        if (ctx.State.Find(nodeId) is not { } node || node.GoalState == Dropped) return Unknown(nodeId);
        if (ApplySettingsBlocked(ctx) is { } blocked) return Refuse($"cannot set replication quorum of {node.Label}: {blocked}");
        if (!quorum)
        {
            var primary = ctx.Primary;
            if (primary is null) return Refuse("can't set replication quorum to false: the group has no primary");
            var nss = ctx.State.Settings.NumberSyncStandbys;
            var remaining = ctx.Others(primary).Count(o => o.ReplicationQuorum && o.NodeId != nodeId);
            if (nss > 0 && nss + 1 > remaining)
                return Refuse($"can't set replication quorum to false: number_sync_standbys = {nss} needs {nss + 1} quorum standbys, {remaining} would remain");
        }
        ctx.Emit(new ReplicationQuorumChanged(nodeId, quorum, ctx.Now));
        RefreshPrimarySettings(ctx, "API-SET-REPLICATION-QUORUM", $"replication quorum of {node.Label} changed");
        return ctx.ToDecision();
    }

    /// <summary>
    /// API-SET-AUTOMATIC-FAILOVER: pause or resume failovers that start by themselves. Pausing never stops a failover
    /// already under way; resuming lets the next evaluation start one if the primary is still unhealthy.
    /// </summary>
    private static Decision SetAutomaticFailover(DecisionContext ctx, bool enabled)
    {
        var formation = ctx.State.Settings.Formation;
        if (ctx.State.Settings.AutomaticFailover == enabled)
        {
            ctx.Note($"automatic failover is already {(enabled ? "enabled" : "disabled")} for formation {formation}");
            return ctx.ToDecision();
        }
        ctx.Emit(new AutomaticFailoverChanged(enabled, enabled ? "operator enabled automatic failover" : "operator disabled automatic failover", ctx.Now));
        ctx.Note(enabled
            ? $"automatic failover enabled for formation {formation}"
            : $"automatic failover disabled for formation {formation}: no failover starts by itself until pgaf enable automatic-failover");
        if (!enabled && ctx.State.Failover is not null)
            ctx.Note($"automatic failover is disabled for formation {formation}; the failover under way finishes");
        if (enabled) ctx.WakeAt(ctx.Now); // an unhealthy primary is failed over at once, not at the next timer tick
        FailoverWatch.Update(ctx);
        return ctx.ToDecision();
    }

    private static Decision SetNumberSyncStandbys(DecisionContext ctx, int n)
    {
        if (n < 0) return Refuse("number_sync_standbys must be 0 or more");
        if (FailoverBlocks(ctx) is { } busy) return Refuse($"cannot set number_sync_standbys: {busy}");
        var primary = ctx.Primary;
        if (primary is null || !Conv(primary, Primary, WaitPrimary))
            return Refuse("cannot set number_sync_standbys: the primary must be in state primary or wait_primary");
        var quorum = ctx.Others(primary).Count(o => o.ReplicationQuorum);
        if (n > 0 && n + 1 > quorum)
            return Refuse($"cannot set number_sync_standbys to {n}: at least {n + 1} quorum standbys are required, the group has {quorum}");
        ctx.Emit(new NumberSyncStandbysChanged(n, "operator", ctx.Now));
        ctx.Assign(primary.NodeId, ApplySettings, "API-SET-NUMBER-SYNC-STANDBYS", $"number_sync_standbys is now {n}");
        return ctx.ToDecision();
    }

    private static string? ApplySettingsBlocked(DecisionContext ctx) =>
        ctx.N > 1 && ctx.Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState)) is { } p && Conv(p, ApplySettings)
            ? "current state for primary is apply_settings; retry in a moment"
            : null;

    /// <summary>Settings that re-target the primary wait while a failover is under way (its rules match on the primary's goal).</summary>
    private static string? FailoverBlocks(DecisionContext ctx) =>
        ctx.State.Failover is not null || ctx.Nodes.Any(DecisionContext.BeingPromoted)
            ? "a failover is in progress; retry once it completed"
            : null;

    /// <summary>A node with a writable goal re-reads synchronous_standby_names (apply_settings) when it can.</summary>
    private static void RefreshPrimarySettings(DecisionContext ctx, string rule, string reason)
    {
        if (ctx.N <= 1) return;
        // During a failover the primary's goal is left alone (the failover rules match on it); the new
        // primary computes synchronous_standby_names from the stored settings when it gets its goal.
        if (FailoverBlocks(ctx) is not null) return;
        if (ctx.Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState)) is not { } p) return;
        // apply_settings has keeper edges only from primary and wait_primary.
        if (p.ReportedState is Primary or WaitPrimary && p.GoalState is Primary or WaitPrimary)
            ctx.Assign(p.NodeId, ApplySettings, rule, reason);
    }

    // ---- update_node_metadata ----------------------------------------------------------------------

    /// <summary>
    /// API-UPDATE-NODE-METADATA: rename or re-address a node. No goal changes: synchronous_standby_names names
    /// standbys by node id (<see cref="SyncStandbyNames.StandbyName"/>), so the primary has nothing to re-read, and
    /// standbys learn a moved primary's address from the goal in the reply to their next report. The event makes
    /// the service publish the new topology (health-checker probes, uri-service connection strings).
    /// </summary>
    private static Decision UpdateNodeMetadata(DecisionContext ctx, UpdateNodeMetadataCommand m)
    {
        if (ctx.State.Find(m.NodeId) is not { } node || node.GoalState == Dropped) return Unknown(m.NodeId);
        if (NodeIdentity.Invalid(m.Name, m.Host, m.Port) is { } invalid) return Refuse($"cannot update {node.Label}: {invalid}");
        var (name, host, port) = (m.Name ?? node.Name, m.Host ?? node.Host, m.Port ?? node.Port);
        if (name == node.Name && host == node.Host && port == node.Port)
        {
            ctx.Note($"{node.Label} already has this name, host and port: nothing changed");
            return ctx.ToDecision();
        }
        if (NodeIdentity.NameOwner(ctx.State, name, node.NodeId) is { } named)
            return Refuse($"cannot rename {node.Label}: node {named.NodeId} is already named \"{name}\" in formation {ctx.State.Settings.Formation}");
        if (NodeIdentity.AddressOwner(ctx.State, host, port, node.NodeId) is { } there)
            return Refuse($"cannot move {node.Label} to {host}:{port}: node {there.NodeId} \"{there.Name}\" is registered there");
        ctx.Emit(new NodeMetadataChanged(node.NodeId, name, host, port, node.Name, node.Host, node.Port, ctx.Now));
        ctx.Note($"{ctx.Node(node.NodeId).Label} updated (was \"{node.Name}\" ({node.Host}:{node.Port}))");
        return ctx.ToDecision();
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

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using static PgAutoFailover.Contracts.NodeState;
using static PgAutoFailover.Monitor.Core.Rules.RuleContext;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>
/// docs/states.md#group-state-machine-generated: the group state machine, run for node A on every report (and after API calls). Ordered; the
/// first rule that fires ends the evaluation. Entries tagged MAIN are later upstream changes we adopted. Every rule
/// that gives a writable goal first demotes the old primary and checks its lease (safety rules 2-3, docs/architecture.md#safety-rules).
/// </summary>
internal static class GroupStateMachineRules
{
    public static readonly Rule[] Table =
    [
        // ---- early checks ------------------------------------------------------------------------
        new("GSM-1", "A converged dropped: remove A's row",
            c => Conv(c.A, Dropped),
            c => { c.Ctx.Emit(new NodeRemoved(c.A.NodeId, $"Removing {c.A.Label}: it reported dropped", c.Ctx.Now)); return true; }),

        new("GSM-2", "A's goal is dropped: nothing to do",
            c => c.A.GoalState == Dropped,
            _ => true),

        new("GSM-3", "A converged maintenance: frozen until disable maintenance",
            c => Conv(c.A, Maintenance),
            _ => true),

        new("SELF-FENCED-RESUME", "refinement: A reports demote_timeout (lease or partition fence) but is still the group's writer and no failover is under way: primary (K36)",
            c => c.A.ReportedState == DemoteTimeout && States.IsWritable(c.A.GoalState) && c.A.GoalState != (c.N == 1 ? NodeState.Single : Primary)
                 && c.Ctx.State.Failover is null && !c.Ctx.FailoverInProgress,
            c => c.Assign(c.A, c.N == 1 ? NodeState.Single : Primary, "SELF-FENCED-RESUME", "it fenced itself but no other node took over: restart it") || true),

        new("MAIN-SELF-FENCED", "A reports demote_timeout (it fenced itself) and its goal has no keeper edge from there: demoted (#1025)",
            c => c.A.ReportedState == DemoteTimeout && !States.KeeperCanReach(DemoteTimeout, c.A.GoalState),
            c => c.Assign(c.A, Demoted, "MAIN-SELF-FENCED", "it fenced itself and another node is taking over") || true),

        new("UNREACHABLE-GOAL", "refinement: A's goal has no keeper edge from the state it reports (its report arrived after the goal changed): re-target so it is not stuck",
            c => c.A.ReportedState != Init && !States.KeeperCanReach(c.A.ReportedState, c.A.GoalState)
                 && (States.IsWritable(c.A.ReportedState) || !States.IsWritable(c.A.GoalState)),
            c =>
            {
                // A writer keeps a writable goal only if it already had one (never a second writer); a writer told
                // to stop goes demoted (reachable from every writable state); a standby keeps the state it is in.
                var target = States.IsWritable(c.A.ReportedState)
                    ? States.IsWritable(c.A.GoalState) ? c.A.ReportedState : Demoted
                    : c.A.ReportedState;
                c.Assign(c.A, target, "UNREACHABLE-GOAL",
                    $"no keeper edge from {DecisionContext.Display(c.A.ReportedState)} to {DecisionContext.Display(c.A.GoalState)}; the rules take it from here");
                return true;
            }),

        new("MAIN-ALONE-FROZEN", "alone, in wait_standby, join_secondary or prepare_maintenance: not sent to single (data may be stale)",
            c => c.N == 1 && !Conv(c.A, NodeState.Single)
                 && (c.A.ReportedState is WaitStandby or JoinSecondary or PrepareMaintenance
                     || c.A.GoalState is WaitStandby or JoinSecondary or PrepareMaintenance),
            c => { c.Ctx.Note($"{c.A.Label} is alone in {DecisionContext.Display(c.A.ReportedState)}: waiting for an operator"); return true; }),

        new("GSM-4", "alone, candidate (or already serving as primary, MAIN): single",
            c => c.N == 1 && !Conv(c.A, NodeState.Single)
                 && (c.A.CandidatePriority > 0 || States.IsWritable(c.A.ReportedState)),
            c =>
            {
                // No keeper edge to single from maintenance: go through report_lsn (K68, then K44).
                if (!States.KeeperCanReach(c.A.ReportedState, NodeState.Single))
                    c.Assign(c.A, ReportLsn, "GSM-4", "no other node in the group: report the LSN first");
                else if (Lease.CandidateMayTakeWrites(c.Ctx, c.A))
                    c.Assign(c.A, NodeState.Single, "GSM-4", "no other node in the group");
                return true;
            }),

        new("GSM-5", "alone with candidate priority 0: report_lsn (a non-candidate never takes writes alone)",
            c => c.N == 1 && !Conv(c.A, NodeState.Single) && c.A.CandidatePriority <= 0,
            c => c.Assign(c.A, ReportLsn, "GSM-5", "alone in the group with candidate priority 0") || true),

        new("GSM-6", "A in a primary state: primary rules",
            c => DecisionContext.InPrimaryState(c.A),
            c => { c.Run(PrimaryRules.Table); return true; }),

        new("ORPHAN-DEMOTED", "refinement: A converged demoted, demote_timeout or draining, nobody holds a writable goal and nobody is being promoted: report_lsn, so an election can use its data",
            c => Conv(c.A, Demoted, DemoteTimeout, Draining) && c.N > 1
                 && !c.Ctx.Nodes.Any(n => States.IsWritable(n.GoalState) || c.Ctx.PromotionUnderWay(n)),
            c => c.Assign(c.A, ReportLsn, "ORPHAN-DEMOTED", "no primary and no promotion under way: join an election") || true),

        new("REG-6-REDIRECT", "refinement: A still in init with goal report_lsn (REG-6), and a primary exists now or no standby is left in report_lsn to copy: wait_standby",
            c => c.A.ReportedState == Init && c.A.GoalState == ReportLsn
                 && ((c.FollowablePrimary && States.IsWritable(c.P!.GoalState))
                     || !c.Ctx.Others(c.A).Any(o => o.IsConverged(ReportLsn))),
            c => c.Assign(c.A, WaitStandby, "REG-6-REDIRECT", "wait for a primary to copy from") || true),

        new("GSM-7", "no primary and nobody being promoted: upstream stops with an error; here an election is run, so standbys left without a primary (forced removal, failed joins) are not stranded (not while automatic failover is paused)",
            c => c.P is null && !c.Ctx.Nodes.Any(c.Ctx.PromotionUnderWay) && c.Ctx.MayStartFailover,
            c =>
            {
                c.Ctx.Note($"{c.A.Label}: the group has no primary and nobody is being promoted: running an election");
                Election.Run(c);
                return true;
            }),

        // ---- multi-standby failure of the primary (N > 2) ---------------------------------------
        new("GSM-8", "N > 2 and the primary is unhealthy: drain it, then run the election (not while automatic failover is paused)",
            c => c.N > 2 && c.Ctx.Unhealthy(c.P) && c.Ctx.MayStartFailover,
            c => MultiStandbyPrimaryFailure(c)),

        // ---- standby-side rules -----------------------------------------------------------------
        new("STALE-CANDIDATE", "refinement: A was picked for promotion but the primary is healthy and serving again: back to report_lsn (then it follows the primary)",
            c => c.A.GoalState is PreparePromotion or FastForward && c.PrimaryStillServing && c.P!.NodeId != c.A.NodeId
                 && States.KeeperCanReach(c.A.ReportedState, ReportLsn),
            c => c.Assign(c.A, ReportLsn, "STALE-CANDIDATE", $"{c.P!.Label} is serving as primary: promotion cancelled") || true),

        new("GSM-9", "A converged report_lsn, healthy primary converged wait_primary/join_primary: secondary",
            c => c.FollowablePrimary && Conv(c.A, ReportLsn) && Conv(c.P, WaitPrimary, JoinPrimary) && c.Ctx.Healthy(c.P),
            c => c.Assign(c.A, Secondary, "GSM-9", $"{c.P!.Label} is the primary now") || true),

        new("GSM-10", "A converged report_lsn, healthy primary converged primary: secondary",
            c => c.FollowablePrimary && Conv(c.A, ReportLsn) && Conv(c.P, Primary) && c.Ctx.Healthy(c.P),
            c => c.Assign(c.A, Secondary, "GSM-10", $"{c.P!.Label} is the primary now") || true),

        new("MAIN-STUCK-FAST-FORWARD", "A told fast_forward but every node with the missing WAL is unhealthy: back to report_lsn",
            c => c.Ctx.GuardDataLoss && c.A.GoalState == FastForward && c.A.ReportedState == ReportLsn
                 && !c.Ctx.Others(c.A).Any(o => o.Lsn > c.A.Lsn && States.ServesWal(o.ReportedState) && c.Ctx.Healthy(o)),
            c => c.Assign(c.A, ReportLsn, "MAIN-STUCK-FAST-FORWARD", "no healthy node has the WAL it misses") || true),

        new("FAST-FORWARD-SHORT", "A converged fast_forward but still behind the most advanced standby: back to report_lsn (never promote a node that may lack WAL)",
            c => Conv(c.A, FastForward) && c.A.Lsn < MostAdvancedStandbyLsn(c, c.A),
            c => c.Assign(c.A, ReportLsn, "FAST-FORWARD-SHORT", "it is still behind the most advanced standby") || true),

        new("GSM-11", "A converged fast_forward: prepare_promotion",
            c => Conv(c.A, FastForward),
            c => c.Assign(c.A, PreparePromotion, "GSM-11", "it fetched the WAL it missed") || true),

        new("GSM-12", "A converged report_lsn or fast_forward: election (not while automatic failover is paused and no failover is under way)",
            c => Conv(c.A, ReportLsn, FastForward) && c.Ctx.MayStartFailover,
            c => { Election.Run(c); return true; }),

        new("GSM-13", "A converged wait_standby, primary converged wait_primary/join_primary: catchingup",
            c => c.FollowablePrimary && Conv(c.A, WaitStandby) && Conv(c.P, WaitPrimary, JoinPrimary),
            c => c.Assign(c.A, CatchingUp, "GSM-13", $"{c.P!.Label} is ready to stream WAL") || true),

        new("GSM-14", "A converged wait_standby with quorum, primary converged primary: catchingup, primary apply_settings",
            c => c.FollowablePrimary && Conv(c.A, WaitStandby) && Conv(c.P, Primary) && c.A.ReplicationQuorum,
            c =>
            {
                c.Assign(c.A, CatchingUp, "GSM-14", $"{c.P!.Label} is ready to stream WAL");
                c.Assign(c.P!, ApplySettings, "GSM-14", $"add {c.A.Label} to synchronous_standby_names");
                return true;
            }),

        new("GSM-15", "A converged wait_standby without quorum, primary converged primary: catchingup",
            c => c.FollowablePrimary && Conv(c.A, WaitStandby) && Conv(c.P, Primary) && !c.A.ReplicationQuorum,
            c => c.Assign(c.A, CatchingUp, "GSM-15", $"{c.P!.Label} is ready to stream WAL") || true),

        // Refinement: only while A's WAL receiver streams. A standby back from a network cut still has its old LSN
        // within the threshold, but until its receiver reconnects (seconds) a primary told to turn synchronous
        // replication back on would hold every commit (13 s seen, issue 13 defect 4). Nor while the primary's WAL waits
        // sync_ack_timeout for a standby's flush: SYNC-ACK-STALL would take it back at once.
        new("GSM-16", "catch-up done: same timeline, within enable_sync_wal_log_threshold, streaming, the primary's WAL acknowledged: secondary",
            c => c.FollowablePrimary && Conv(c.A, CatchingUp) && Conv(c.P, WaitPrimary, JoinPrimary, Primary) && c.Ctx.Healthy(c.A)
                 && c.A.Timeline == c.P!.Timeline
                 && c.A.ReplicationState != States.StandbyNotStreaming
                 && !PrimaryRules.AcknowledgementsStalled(c.P, c.Options)
                 && HealthPredicates.WalDifferenceWithin(c.A, c.P, c.Options.EnableSyncWalThreshold),
            c => c.Assign(c.A, Secondary, "GSM-16", $"it caught up with {c.P!.Label}") || true),

        new("GSM-17", "single-standby failover: primary unhealthy, A healthy candidate within promote threshold (not while automatic failover is paused)",
            c => Conv(c.A, Secondary) && c.P is { } p && DecisionContext.InPrimaryState(p) && c.Ctx.Unhealthy(p)
                 && c.Ctx.Healthy(c.A) && c.A.CandidatePriority > 0 && c.Ctx.MayStartFailover
                 && HealthPredicates.WalDifferenceWithin(c.A, p, c.Options.PromoteWalThreshold),
            c => SingleStandbyFailover(c)),

        new("GSM-18", "A converged wait_maintenance, primary converged wait_primary: maintenance",
            c => Conv(c.A, WaitMaintenance) && Conv(c.P, WaitPrimary),
            c => c.Assign(c.A, Maintenance, "GSM-18", "the primary no longer waits for it") || true),

        new("GSM-19", "A converged wait_maintenance, primary's goal is not wait_primary (or no primary is left): maintenance",
            c => Conv(c.A, WaitMaintenance) && c.P is not { GoalState: WaitPrimary },
            c => c.Assign(c.A, Maintenance, "GSM-19", "the primary does not wait for it") || true),

        new("GSM-20", "A converged prepare_promotion, primary converged prepare_maintenance: stop_replication",
            c => Conv(c.A, PreparePromotion) && Conv(c.P, PrepareMaintenance),
            c => c.Assign(c.A, StopReplication, "GSM-20", $"{c.P!.Label} is stopped for maintenance") || true),

        new("MAIN-1168-STOP-REPLICATION", "A converged prepare_promotion, the failed primary still has a writable goal (wait_primary, #1168): stop_replication without demote_timeout",
            c => Conv(c.A, PreparePromotion) && c.P is { } p && States.IsWritable(p.GoalState) && p.NodeId != c.A.NodeId && !c.PrimaryStillServing,
            c => c.Assign(c.A, StopReplication, "MAIN-1168-STOP-REPLICATION", $"{c.P!.Label} failed while in wait_primary") || true),

        new("GSM-23", "A converged prepare_promotion, primary not in maintenance: stop_replication, primary demote_timeout",
            c => Conv(c.A, PreparePromotion) && c.P is { } p && !DecisionContext.InMaintenance(p) && !c.PrimaryStillServing,
            c =>
            {
                c.AssignDemotion(c.P!, DemoteTimeout, "GSM-23", $"{c.A.Label} is being promoted");
                c.Assign(c.A, StopReplication, "GSM-23", $"{c.P!.Label} is being demoted");
                return true;
            }),

        new("GSM-24", "A converged prepare_promotion and no primary left: wait_primary",
            c => Conv(c.A, PreparePromotion) && c.P is null,
            c => { if (Lease.CandidateMayTakeWrites(c.Ctx, c.A)) c.Assign(c.A, WaitPrimary, "GSM-24", "the old primary was removed"); return true; }),

        new("GSM-25", "A converged stop_replication, primary converged prepare_maintenance: wait_primary, primary maintenance",
            c => Conv(c.A, StopReplication) && Conv(c.P, PrepareMaintenance),
            c =>
            {
                var p = c.P!;
                c.Assign(p, Maintenance, "GSM-25", $"{c.A.Label} takes over");
                if (Lease.CandidateMayTakeWrites(c.Ctx, c.A))
                    c.Assign(c.A, WaitPrimary, "GSM-25", $"{p.Label} is in maintenance");
                return true;
            }),

        // Refinement: an old primary that is unhealthy and silent cannot confirm anything; waiting out the demote
        // timeout for it is patience without safety, the lease check below is the safety (safety rule 3, docs/architecture.md#safety-rules).
        new("GSM-26", "promotion completes: old primary confirmed demote_timeout, or (its demote timeout is over or it is dead) and its lease is over",
            c => Conv(c.A, StopReplication) && c.P is { } p && p.NodeId != c.A.NodeId
                 && (Conv(p, DemoteTimeout) || c.Ctx.DrainTimeExpired(p) || (p.GoalState == DemoteTimeout && !c.Ctx.Healthy(p) && !c.Ctx.Reporting(p)))
                 && Lease.CandidateMayTakeWrites(c.Ctx, c.A),
            c =>
            {
                var p = c.P!;
                c.Assign(p, Demoted, "GSM-26", $"{c.A.Label} takes over");
                c.Assign(c.A, WaitPrimary, "GSM-26", $"{p.Label} is fenced");
                return true;
            }),

        new("MAIN-1168-PROMOTE", "A converged stop_replication, the failed primary still has a writable goal (#1168): after the demote timeout and its lease, wait_primary",
            c => Conv(c.A, StopReplication) && c.P is { } p && States.IsWritable(p.GoalState) && p.NodeId != c.A.NodeId
                 && !c.PrimaryStillServing && c.Ctx.Now - c.A.StateChangedAt >= c.Options.DemoteTimeout
                 && Lease.CandidateMayTakeWrites(c.Ctx, c.A),
            c =>
            {
                var p = c.P!;
                c.Assign(p, Demoted, "MAIN-1168-PROMOTE", $"{c.A.Label} takes over");
                c.Assign(c.A, WaitPrimary, "MAIN-1168-PROMOTE", $"{p.Label} failed in wait_primary and is fenced");
                return true;
            }),

        new("STOP-REPLICATION-ORPHAN", "refinement: A converged stop_replication and no primary left: wait_primary once no other node may write",
            c => Conv(c.A, StopReplication) && c.P is null && Lease.CandidateMayTakeWrites(c.Ctx, c.A),
            c => c.Assign(c.A, WaitPrimary, "STOP-REPLICATION-ORPHAN", "the old primary is gone") || true),

        new("GSM-29", "A converged demoted, healthy primary reported wait_primary/join_primary with goal primary: catchingup",
            c => Conv(c.A, Demoted) && c.Ctx.Healthy(c.P)
                 && c.P!.ReportedState is WaitPrimary or JoinPrimary && c.P.GoalState == Primary,
            c => c.Assign(c.A, CatchingUp, "GSM-29", $"follow the new primary {c.P!.Label}") || true),

        new("GSM-30", "A converged demoted, healthy primary converged join_primary/wait_primary/primary: catchingup",
            c => Conv(c.A, Demoted) && c.Ctx.Healthy(c.P) && Conv(c.P, JoinPrimary, WaitPrimary, Primary),
            c => c.Assign(c.A, CatchingUp, "GSM-30", $"follow the new primary {c.P!.Label}") || true),

        new("GSM-31", "A converged join_secondary, primary reported wait_primary with goal wait_primary/primary: secondary, then primary rules for P",
            c => Conv(c.A, JoinSecondary) && c.P is { ReportedState: WaitPrimary, GoalState: WaitPrimary or Primary },
            c =>
            {
                var p = c.P!;
                c.Assign(c.A, Secondary, "GSM-31", $"follow the new primary {p.Label}");
                if (DecisionContext.InPrimaryState(p)) new RuleContext(c.Ctx, p.NodeId).Run(PrimaryRules.Table);
                return true;
            }),

        new("GSM-32", "A converged join_secondary, primary converged primary: secondary",
            c => Conv(c.A, JoinSecondary) && Conv(c.P, Primary),
            c => c.Assign(c.A, Secondary, "GSM-32", $"follow the new primary {c.P!.Label}") || true),
    ];

    /// <summary>Highest LSN among the other nodes of the EL-6 pool (not primaries, not a demoted old primary), up or down.</summary>
    private static ulong MostAdvancedStandbyLsn(RuleContext c, Model.MonitorNode a) =>
        c.Ctx.Others(a).Where(o => !States.IsPrimaryBelonging(o.ReportedState) && o.ReportedState != Demoted)
            .Select(o => o.Lsn).DefaultIfEmpty(0UL).Max();

    /// <summary>GSM-8 a/b/c.</summary>
    private static bool MultiStandbyPrimaryFailure(RuleContext c)
    {
        var p = c.P;
        if (p is not null && DecisionContext.InPrimaryState(p) && !Conv(p, WaitPrimary)
            && c.Ctx.HealthyCandidates(c.Ctx.Others(p).Where(o => o.GoalState == Secondary)).Any())
        {
            c.Ctx.BeginFailover(p, $"{p.Label} is unhealthy", planned: false);
            c.AssignDemotion(p, Draining, "GSM-8a", $"{p.Label} is unhealthy");
        }
        else if (p is not null && Conv(p, PrepareMaintenance))
        {
            c.Assign(p, Maintenance, "GSM-8b", $"{p.Label} stopped for maintenance");
        }
        // A primary converged wait_primary is not drained (no keeper edge, #1168): the election runs and EL-8
        // starts the failover only when it elects someone, so a primary with no candidate keeps its lease.

        var before = c.Ctx.Assignments.Count;
        Election.Run(c);
        return c.Ctx.Assignments.Count > before; // GSM-8c: stop only when the election assigned something
    }

    /// <summary>GSM-17, with the [main] #1168 variant for a primary that failed in wait_primary (no draining edge from there).</summary>
    private static bool SingleStandbyFailover(RuleContext c)
    {
        var p = c.P!;
        if (p.ReportedState == WaitPrimary)
        {
            c.Ctx.BeginFailover(p, $"{p.Label} is unhealthy in wait_primary", planned: false);
            c.Assign(c.A, PreparePromotion, "GSM-17", $"{p.Label} is unhealthy (MAIN #1168: no draining from wait_primary)");
            return true;
        }
        c.Ctx.BeginFailover(p, $"{p.Label} is unhealthy", planned: false);
        c.AssignDemotion(p, Draining, "GSM-17", $"{p.Label} is unhealthy");
        c.Assign(c.A, PreparePromotion, "GSM-17", $"{p.Label} is unhealthy and {c.A.Label} is a healthy candidate");
        return true;
    }
}

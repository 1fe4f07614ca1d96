using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>
/// docs/states.md#elections: election with several standbys, run from GSM-8c and GSM-12. The steps are evaluated in order;
/// a step that returns true ends the election (with or without an assignment).
/// </summary>
internal static class Election
{
    private sealed class Ballot(RuleContext rc)
    {
        public RuleContext Rc { get; } = rc;
        public DecisionContext Ctx => Rc.Ctx;
        public List<MonitorNode> Candidates { get; } = [];
        public int Missing { get; set; }
        public int QuorumCandidates { get; set; }
        public ulong MostAdvancedLsn { get; set; }
        public List<MonitorNode> MostAdvanced { get; set; } = [];
        public MonitorNode? Selected { get; set; }
    }

    private sealed record Step(string Id, string Summary, Func<Ballot, bool> Run);

    private static readonly Step[] Steps =
    [
        new("EL-0", "refinement: a healthy primary with a writable goal is still serving: no election", b =>
        {
            if (b.Rc.P is not { } p || !States.IsWritable(p.GoalState) || b.Ctx.Unhealthy(p)) return false;
            if (b.Ctx.Nodes.Any(DecisionContext.BeingPromoted)) return false; // decided already: EL-1 continues it
            b.Ctx.Note($"no election: {p.Label} still serves as primary");
            return true;
        }),
        new("EL-1", "continue an election already decided (non-elected report_lsn nodes join_secondary)", ContinueDecided),
        new("EL-2", "collect candidates; send streaming standbys and a returned old primary to report_lsn", Collect),
        new("EL-3", "data-loss guard: wait for every quorum standby to report its LSN", b =>
        {
            if (b.Missing == 0 || !b.Ctx.GuardDataLoss) return false;
            b.Ctx.Note($"failover still in progress: waiting for {b.Missing} node(s) to report their LSN");
            return true;
        }),
        new("EL-4", "no candidate: no decision", b =>
        {
            if (b.Candidates.Count > 0) return false;
            b.Ctx.Note("failover still in progress: no candidate has reported report_lsn");
            return true;
        }),
        new("EL-5", "data-loss guard: at least number_sync_standbys + 1 quorum candidates", b =>
        {
            // Refinement: only quorum standbys that can hold WAL are waited for (not nodes in init/wait_standby,
            // which never received any, nor the old primary); otherwise a group whose only data-bearing quorum
            // standby reported would wait forever.
            var mayHoldWal = b.Ctx.Nodes.Count(n => n.ReplicationQuorum && n.ReportedState is not (Init or WaitStandby)
                                                    && !States.IsPrimaryBelonging(n.ReportedState) && !States.IsWritable(n.GoalState));
            var needed = Math.Min(b.Ctx.State.Settings.NumberSyncStandbys + 1, mayHoldWal);
            if (b.QuorumCandidates >= needed || !b.Ctx.GuardDataLoss) return false;
            b.Ctx.Note($"failover still in progress: {b.QuorumCandidates} quorum candidate(s) reported, {needed} needed");
            return true;
        }),
        new("EL-6", "most advanced: highest (timeline, LSN) among non-primary nodes", MostAdvanced),
        new("EL-7", "select the best candidate by priority, then LSN", Select),
        new("EL-8-FENCE", "refinement: decide only once the old primary is provably fenced, so the reported LSNs are final", b =>
        {
            if (Lease.OtherWriterUntil(b.Ctx.State, b.Selected!, b.Ctx.Options, b.Ctx.Now) is not { } until) return false;
            b.Ctx.Note($"election of {b.Selected!.Label} waits: the old primary may still accept writes {Lease.Until(b.Ctx.State, b.Ctx.Options, b.Ctx.Now, until)}");
            if (until != DateTimeOffset.MaxValue) b.Ctx.WakeAt(until);
            return true;
        }),
        new("EL-8", "promote: prepare_promotion if most advanced, else fast_forward", Promote),
    ];

    /// <summary>Ids of the steps, in order (for documentation and tests).</summary>
    public static IEnumerable<string> StepIds => Steps.Select(s => s.Id);

    /// <summary>Every step's id and summary, in order (docs/states.md lists them).</summary>
    public static IEnumerable<(string Id, string Summary)> Catalogue => Steps.Select(s => (s.Id, s.Summary));

    public static void Run(RuleContext rc)
    {
        var ballot = new Ballot(rc);
        foreach (var step in Steps)
        {
            if (step.Run(ballot)) return;
        }
    }

    private static bool ContinueDecided(Ballot b)
    {
        var ctx = b.Ctx;
        var a = b.Rc.A;
        // A standby told prepare_promotion that has not reported it yet (PROMOTION-ASSIGNED) is the candidate too.
        foreach (var c in ctx.Nodes.Where(n => DecisionContext.BeingPromoted(n) || DecisionContext.PromotionAssigned(n)).ToList())
        {
            if (c.NodeId != a.NodeId && c.ReportedState is ReportLsn or PreparePromotion or Secondary && c.GoalState is PreparePromotion or FastForward
                && ctx.Gone(c))
            {
                // Refinement: the elected node died before it took over. It goes back to report_lsn (so it cannot
                // resume a stale promotion) and a new election runs; the guards still wait for it if needed.
                ctx.Assign(c.NodeId, ReportLsn, "EL-1", $"{c.Label} was elected but is gone: new election");
                return false;
            }
            if (c.NodeId == a.NodeId || c.ReportedState is ReportLsn or PreparePromotion or Secondary || ctx.Healthy(c))
            {
                if (a.IsConverged(ReportLsn) && c.NodeId != a.NodeId && DecisionContext.ReadyToStreamWal(c))
                    ctx.Assign(a.NodeId, JoinSecondary, "EL-1", $"{c.Label} was elected and can stream WAL");
                return true;
            }
        }
        return false; // the promoted node failed in a later state: new election
    }

    private static bool Collect(Ballot b)
    {
        var ctx = b.Ctx;
        var nss = ctx.State.Settings.NumberSyncStandbys;
        var oldPrimaryWritesEnded = b.Rc.P is { } p ? Lease.WritesEndedBy(ctx.State, p, ctx.Options, ctx.Now) : null;
        foreach (var x in ctx.Nodes.ToList())
        {
            var oldOrNewPrimary = DecisionContext.InPrimaryState(x) || DecisionContext.BeingDemotedPrimary(x) || DecisionContext.DemotedPrimary(x)
                                  || States.IsWritable(x.GoalState) || States.IsPrimaryBelonging(x.ReportedState);
            if (oldOrNewPrimary && !x.IsConverged(Draining) && !x.IsConverged(Demoted))
            {
                // Refinement: an old primary that is still reporting may hold the only copy of commits a
                // standby acknowledged before it was promoted; wait until it converges (draining or demoted)
                // and joins the election with its LSN. One that still holds a writable goal but is unhealthy
                // (it fenced itself, or PostgreSQL is down for good) is demoted so that it can. A dead one is
                // skipped, as upstream does.
                if (ctx.Reporting(x) && x.LastReportAt is not null)
                {
                    if (States.IsWritable(x.GoalState) && ctx.Unhealthy(x))
                        ctx.Assign(x.NodeId, Demoted, "EL-2", $"{x.Label} is unhealthy during an election: demote it so it can report its LSN");
                    if (!DecisionContext.InPrimaryState(ctx.Node(x.NodeId)) || !States.IsWritable(ctx.Node(x.NodeId).GoalState)) b.Missing++;
                }
                continue;
            }

            if (ctx.Unhealthy(x) && !ctx.Reporting(x))
            {
                // Refinement: a report_lsn report only counts while the goal is still report_lsn; one left over
                // from an earlier election says nothing about WAL streamed since.
                if (x.ReplicationQuorum && !x.IsConverged(ReportLsn)) b.Missing++;
                continue;
            }

            if (x.IsConverged(ReportLsn))
            {
                b.Candidates.Add(x);
                if (x.ReplicationQuorum || nss == 0) b.QuorumCandidates++;
            }
            else if (x.GoalState == ReportLsn)
            {
                b.Missing++;
            }
            else if (x.ReportedState == WaitStandby && x.GoalState == CatchingUp && x.ReplicationQuorum
                     && oldPrimaryWritesEnded is { } ended && !(x.LastReportAt > ended))
            {
                // Refinement: it may have finished its base backup and acknowledged commits of the old primary
                // without having reported it yet; wait for a report made after the old primary stopped writing.
                b.Missing++;
            }
            else if ((x.ReportedState is Secondary or CatchingUp && x.GoalState is Secondary or CatchingUp)
                     || (x.ReportedState == Maintenance && x.GoalState == CatchingUp)
                     || x.IsConverged(Draining) || x.IsConverged(Demoted)
                     || (x.ReportedState == Demoted && x.GoalState == CatchingUp)
                     // Refinement: a node told to follow a primary that failed before it could (reported
                     // report_lsn or join_secondary, goal secondary/join_secondary) rejoins the election instead
                     // of waiting forever for a primary that is gone.
                     || (x.ReportedState is ReportLsn or JoinSecondary && x.GoalState is Secondary or JoinSecondary)
                     // Refinement: a standby still waiting to enter maintenance runs PostgreSQL and may hold acknowledged
                     // writes; the guard counts it, so it must vote (its maintenance is abandoned; the operator can ask
                     // again). Without this a group whose only quorum standby was in wait_maintenance waited forever
                     // (property walk nss/3035).
                     || x.IsConverged(WaitMaintenance))
            {
                ctx.Assign(x.NodeId, ReportLsn, "EL-2", "failover in progress: report your LSN");
                b.Missing++;
            }
        }
        return false;
    }

    private static bool MostAdvanced(Ballot b)
    {
        // A demoted old primary is left out: its extra WAL was never acknowledged by a standby, and a reporting
        // one joins the election through EL-2 (report_lsn) with its LSN anyway.
        var pool = b.Ctx.Nodes.Where(n => !States.IsPrimaryBelonging(n.ReportedState) && n.ReportedState != Demoted).ToList();
        var best = pool.OrderByDescending(n => n.Timeline).ThenByDescending(n => n.Lsn).FirstOrDefault();
        b.MostAdvancedLsn = best?.Lsn ?? 0;
        b.MostAdvanced = [.. pool.Where(n => best is not null && n.Lsn == best.Lsn)];
        return false;
    }

    private static bool Select(Ballot b)
    {
        var ctx = b.Ctx;
        var p = b.Rc.P;
        var mostAdvanced = b.MostAdvanced.FirstOrDefault();
        if (p is not null && !HealthPredicates.WalDifferenceWithin(mostAdvanced, p, ctx.Options.PromoteWalThreshold))
        {
            ctx.Note($"cannot elect: the most advanced standby is more than {ctx.Options.PromoteWalThreshold} bytes behind {p.Label}; " +
                     "revive the primary or raise the promote WAL threshold");
            return true;
        }

        MonitorNode? selected = null;
        foreach (var c in b.Candidates.Where(c => c.CandidatePriority > 0)
                     .OrderByDescending(c => c.CandidatePriority).ThenByDescending(c => c.Lsn).ThenBy(c => c.NodeId))
        {
            if (ctx.Unhealthy(c)) continue;
            if (selected is null) { selected = c; continue; }
            if (c.CandidatePriority < selected.CandidatePriority) break;
            if (c.Lsn > selected.Lsn) selected = c;
        }

        if (selected is null)
        {
            ctx.Note("failover still in progress: no healthy candidate with candidate priority above 0");
            return true;
        }
        if (selected.Lsn < b.MostAdvancedLsn && !b.MostAdvanced.Any(ctx.Healthy))
        {
            ctx.Note($"cannot elect {selected.Label}: it misses WAL and no most advanced node is healthy to fetch it from");
            return true;
        }
        b.Selected = selected;
        return false;
    }

    private static bool Promote(Ballot b)
    {
        var ctx = b.Ctx;
        var selected = b.Selected!;
        if (selected.CandidatePriority > 100)
            ctx.Emit(new CandidatePriorityChanged(selected.NodeId, selected.CandidatePriority - 101,
                $"{selected.Label} was elected: undo the perform promotion boost", ctx.Now));
        foreach (var c in b.Candidates.Where(c => ctx.Node(c.NodeId).CandidatePriority < 0))
            ctx.Emit(new CandidatePriorityChanged(c.NodeId, ctx.Node(c.NodeId).CandidatePriority + 101,
                $"{c.Label}: undo the perform failover penalty", ctx.Now));

        ctx.BeginFailover(b.Rc.P, "election", planned: false);
        if (selected.Lsn >= b.MostAdvancedLsn)
            ctx.Assign(selected.NodeId, PreparePromotion, "EL-8", "elected: it has the most advanced LSN");
        else
            ctx.Assign(selected.NodeId, FastForward, "EL-8", "elected: it fetches the missing WAL from the most advanced standby first");
        return true;
    }
}

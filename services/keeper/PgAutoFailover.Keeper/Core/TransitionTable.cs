using PgAutoFailover.Contracts;
using static PgAutoFailover.Contracts.NodeState;
using static PgAutoFailover.Keeper.Core.KeeperAction;

namespace PgAutoFailover.Keeper.Core;

/// <summary>One row of the keeper's transition table: from → to, and the plan of local actions.</summary>
/// <param name="Id">Row name as in docs/states.md#keeper-transitions (K1..K77) or "M…" for the [main] additions.</param>
/// <param name="From">Current state; null is the wildcard "any".</param>
public sealed record Transition(string Id, NodeState? From, NodeState To, IReadOnlyList<KeeperAction> Plan, string Comment)
{
    public override string ToString() =>
        $"{Id} {(From is { } f ? KeeperStates.Name(f) : "any")} -> {KeeperStates.Name(To)}: {(Plan.Count == 0 ? "-" : string.Join(" + ", Plan))}";
}

/// <summary>
/// The keeper transition table of docs/states.md#keeper-transitions, in the spec's order, plus the [main] edges that make
/// every state able to reach demoted/demote_timeout and report_lsn. Lookup is by the exact pair
/// (current, goal); the wildcard row (any → dropped) comes last.
/// </summary>
public static class TransitionTable
{
    private static Transition T(string id, NodeState? from, NodeState to, string comment, params KeeperAction[] plan) =>
        new(id, from, to, plan, comment);

    public static readonly IReadOnlyList<Transition> Rows = Build();

    private static List<Transition> Build()
    {
        var rows = new List<Transition>
        {
            T("K1", Init, NodeState.Single, "start as a single node", InitPrimary),
            T("K2", Dropped, NodeState.Single, "start as a single node again", InitPrimary),
            T("K3", Init, WaitStandby, "wait for the primary to accept this standby"),
            T("K4", Dropped, WaitStandby, "wait for the primary to accept this standby"),
            T("K5", Init, NodeState.ReportLsn, "clone the most advanced standby", InitFromStandby),
            T("K6", Dropped, NodeState.ReportLsn, "clone the most advanced standby", InitFromStandby),
            T("K7", NodeState.Single, WaitPrimary, "a standby is joining", PrepareReplication),
            T("K8", Primary, NodeState.Single, "no standby left", DisableReplication),
            T("K9", WaitPrimary, NodeState.Single, "no standby left", DisableReplication),
            T("K10", JoinPrimary, NodeState.Single, "no standby left", DisableReplication),
            T("K11", ApplySettings, NodeState.Single, "no standby left", DisableReplication),
            T("K12", Primary, WaitPrimary, "no quorum standby: disable synchronous replication", DisableSyncRep),
            T("K13", JoinPrimary, WaitPrimary, "disable synchronous replication", DisableSyncRep),
            T("K14", ApplySettings, WaitPrimary, "disable synchronous replication", DisableSyncRep),
            T("K15", WaitPrimary, Primary, "a standby caught up: enable synchronous replication", EnableSyncRep),
            T("K16", JoinPrimary, Primary, "enable synchronous replication", EnableSyncRep),
            T("K17", ApplySettings, Primary, "apply synchronous_standby_names", EnableSyncRep),
            T("K18", Primary, ApplySettings, "settings changed"),
            T("K19", WaitPrimary, ApplySettings, "settings changed"),
            T("K20", Primary, JoinPrimary, "a standby is joining", PrepareReplication),
            T("K21", WaitPrimary, JoinPrimary, "a standby is joining", PrepareReplication),
            T("K22", ApplySettings, JoinPrimary, "a standby is joining", PrepareReplication),
            T("K23", Primary, Draining, "stop taking writes", StopPostgres),
            T("K24", JoinPrimary, Draining, "stop taking writes", StopPostgres),
            T("K25", ApplySettings, Draining, "stop taking writes", StopPostgres),
            T("K26", Primary, DemoteTimeout, "another node is taking over", StopPostgres),
            T("K27", JoinPrimary, DemoteTimeout, "another node is taking over", StopPostgres),
            T("K28", ApplySettings, DemoteTimeout, "another node is taking over", StopPostgres),
            T("K29", Draining, DemoteTimeout, "another node is taking over", StopPostgres),
            T("K30", Primary, Demoted, "demoted", StopPostgres),
            T("K31", JoinPrimary, Demoted, "demoted", StopPostgres),
            T("K32", ApplySettings, Demoted, "demoted", StopPostgres),
            T("K33", WaitPrimary, Demoted, "demoted", StopPostgres),
            T("K34", Draining, Demoted, "demoted", StopPostgres),
            T("K35", DemoteTimeout, Demoted, "demoted", StopPostgres),
            T("K36", DemoteTimeout, Primary, "self-fenced primary: the monitor never failed over", StartPostgresAndApplySettings),
            T("K37", Demoted, NodeState.Single, "resume as the only node", ResumeAsPrimary),
            T("K38", DemoteTimeout, NodeState.Single, "resume as the only node", ResumeAsPrimary),
            T("K39", Draining, NodeState.Single, "resume as the only node", ResumeAsPrimary),
            T("K40", Secondary, NodeState.Single, "promote: no other node", PromoteStandby),
            T("K41", CatchingUp, NodeState.Single, "promote: no other node", PromoteStandby),
            T("K42", PreparePromotion, NodeState.Single, "promote: no other node", PromoteStandby),
            T("K43", NodeState.StopReplication, NodeState.Single, "promote: no other node", PromoteStandby),
            T("K44", NodeState.ReportLsn, NodeState.Single, "promote: no other node", PromoteStandby),
            T("K45", WaitStandby, CatchingUp, "clone the primary", InitStandby),
            T("K46", Demoted, CatchingUp, "rejoin as a standby", RewindOrInit),
            T("K47", Secondary, CatchingUp, "follow the new primary", FollowNewPrimary),
            T("K48", CatchingUp, Secondary, "caught up", PrepareForSecondary),
            T("K49", Secondary, PreparePromotion, "candidate for promotion", PrepareStandbyForPromotion),
            T("K50", CatchingUp, PreparePromotion, "candidate for promotion", PrepareStandbyForPromotion),
            T("K51", NodeState.ReportLsn, PreparePromotion, "candidate for promotion", PrepareStandbyForPromotion),
            T("K52", PreparePromotion, NodeState.StopReplication, "promote, still refusing writes", KeeperAction.StopReplication),
            T("K53", NodeState.StopReplication, WaitPrimary, "the old primary is fenced: take writes", ResumeWrites),
            T("K54", PreparePromotion, WaitPrimary, "promote", PromoteStandby),
            T("K55", Secondary, WaitStandby, "re-registration"),
            T("K56", Secondary, WaitMaintenance, "going to maintenance"),
            T("K57", CatchingUp, WaitMaintenance, "going to maintenance"),
            T("K58", Secondary, Maintenance, "maintenance", StartMaintenanceOnStandby),
            T("K59", CatchingUp, Maintenance, "maintenance", StartMaintenanceOnStandby),
            T("K60", WaitMaintenance, Maintenance, "maintenance", StartMaintenanceOnStandby),
            T("K61", Primary, PrepareMaintenance, "primary going to maintenance", CheckpointAndStopPostgres),
            T("K62", Primary, Maintenance, "primary going to maintenance", CheckpointAndStopPostgres),
            T("K63", PrepareMaintenance, Maintenance, "maintenance", StopPostgresAndSetupStandby),
            T("K64", Maintenance, CatchingUp, "back from maintenance", RewindOrInit),
            T("K65", PrepareMaintenance, CatchingUp, "back from maintenance", RewindOrInit),
            T("K66", Secondary, NodeState.ReportLsn, "election: freeze and report the LSN", NodeStateReportLsn),
            T("K67", CatchingUp, NodeState.ReportLsn, "election: freeze and report the LSN", NodeStateReportLsn),
            T("K68", Maintenance, NodeState.ReportLsn, "election: freeze and report the LSN", NodeStateReportLsn),
            T("K69", PrepareMaintenance, NodeState.ReportLsn, "election: freeze and report the LSN", NodeStateReportLsn),
            T("K70", Draining, NodeState.ReportLsn, "election: freeze and report the LSN", NodeStateReportLsn, DropAllSlots),
            T("K71", Demoted, NodeState.ReportLsn, "election: freeze and report the LSN", NodeStateReportLsn, DropAllSlots),
            T("K72", NodeState.ReportLsn, NodeState.FastForward, "fetch missing WAL from the most advanced standby", KeeperAction.FastForward),
            T("K73", NodeState.FastForward, PreparePromotion, "caught up with the most advanced standby", CleanupAsPrimary),
            T("K74", NodeState.ReportLsn, JoinSecondary, "not elected: wait for the new primary", CheckpointAndStopPostgres),
            T("K75", NodeState.ReportLsn, Secondary, "follow the new primary", FollowNewPrimary),
            T("K76", JoinSecondary, Secondary, "follow the new primary", FollowNewPrimary),
        };

        // [main] edges: every state reaches demoted/demote_timeout by stopping PostgreSQL …
        NodeState[] stoppable = [Init, NodeState.Single, CatchingUp, Secondary, PreparePromotion, NodeState.StopReplication, NodeState.ReportLsn, NodeState.FastForward,
            Maintenance, PrepareMaintenance, WaitMaintenance, Demoted,
            // Ours, beyond [main]: the design rule "any state reaches demoted/demote_timeout" also covers these.
            WaitPrimary, WaitStandby, JoinSecondary];
        var n = 0;
        foreach (var from in stoppable)
        {
            foreach (var to in new[] { Demoted, DemoteTimeout })
            {
                if (from == to || rows.Any(r => r.From == from && r.To == to)) continue;
                rows.Add(T($"M{++n}", from, to, "another node is taking over, make sure PostgreSQL is stopped", StopPostgres));
            }
        }
        // … report_lsn from the election-related states …
        foreach (var from in new[] { DemoteTimeout, PreparePromotion, NodeState.StopReplication, NodeState.FastForward, JoinSecondary, WaitMaintenance })
        {
            rows.Add(T($"M{++n}", from, NodeState.ReportLsn, "election: freeze and report the LSN", NodeStateReportLsn));
        }
        // … and single from fast_forward and wait_maintenance.
        foreach (var from in new[] { NodeState.FastForward, WaitMaintenance })
        {
            rows.Add(T($"M{++n}", from, NodeState.Single, "promote: no other node", PromoteStandby));
        }

        rows.Add(T("K77", null, Dropped, "leave the group", KeeperAction.DropNode));
        return rows;
    }

    // The enum member and the state share a name; keep the action readable above.
    private const KeeperAction NodeStateReportLsn = KeeperAction.ReportLsn;

    /// <summary>The row for (from, to), or null: "does not know how to reach state".</summary>
    public static Transition? Find(NodeState from, NodeState to) =>
        from == to ? null : Rows.FirstOrDefault(r => r.From == from && r.To == to) ?? Rows.FirstOrDefault(r => r.From is null && r.To == to);
}

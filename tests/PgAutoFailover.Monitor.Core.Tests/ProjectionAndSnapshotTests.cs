using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Rules;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>The state is the fold of the core's own events; snapshots; synchronous_standby_names (docs/states.md#synchronous_standby_names).</summary>
public class ProjectionAndSnapshotTests
{
    [Fact]
    public void State_rebuilt_from_the_events_equals_the_state_decided_from()
    {
        var c = new Cluster();
        var events = new List<IGroupEvent> { new GroupCreated(c.State.Settings, c.State.MonitorStartedAt) };
        var core = c.Core;
        Decision Apply(Trigger t)
        {
            var d = core.Decide(c.State, t, c.Now);
            foreach (var e in d.Events) c.State = GroupProjection.Apply(c.State, e);
            events.AddRange(d.Events);
            return d;
        }
        Apply(new RegisterTrigger(1, null, "h", 5401, "postgres", null, 50, true, Init));
        Apply(new ReportTrigger(1, NodeState.Single, true, 1, 100, "", 1));
        Apply(new RegisterTrigger(2, null, "h", 5402, "postgres", null, 50, true, Init));
        Apply(new ReportTrigger(2, WaitStandby, true, 1, 0, "", 1));
        Apply(new ReportTrigger(1, NodeState.Single, true, 1, 100, "", 2));
        Apply(new ProbeTrigger(2, false, "x"));
        Apply(new SetCandidatePriorityCommand(2, 70));
        Apply(new UpdateNodeMetadataCommand(2, "renamed", "h2", 6002));

        var rebuilt = GroupProjection.Rebuild(events);
        Assert.Equal(c.State.Settings, rebuilt.Settings);
        Assert.Equal(c.State.AllNodes.Values, rebuilt.AllNodes.Values);
        Assert.Equal(c.State.Failover, rebuilt.Failover);
        Assert.Equal(("renamed", "h2", 6002), (rebuilt[2].Name, rebuilt[2].Host, rebuilt[2].Port));
    }

    [Fact]
    public void Reports_that_change_nothing_are_liveness_only()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var same = g.Report(2);
        Assert.True(((IGroupEvent)same.Events.OfType<NodeReported>().Single()).LivenessOnly);
        var changed = g.Report(2, CatchingUp);
        Assert.False(((IGroupEvent)changed.Events.OfType<NodeReported>().Single()).LivenessOnly);
    }

    [Fact]
    public void A_keepers_error_and_progress_ride_on_a_liveness_only_report_into_the_snapshot_and_clear_with_the_next()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var wire = new ReportNodeState("default", 0, 2, Secondary, true, 1, g[2].Lsn, "streaming", null, 1000, DateTimeOffset.UnixEpoch,
            LastError: "pg_rewind failed (exit 1)", Progress: "pg_basebackup from node 1 (h:1) running for 3 s");
        var d = g.Do(ReportTrigger.From(wire));
        var reported = d.Events.OfType<NodeReported>().Single();
        Assert.True(((IGroupEvent)reported).LivenessOnly);
        Assert.Equal(("pg_rewind failed (exit 1)", "pg_basebackup from node 1 (h:1) running for 3 s"), (reported.LastError, reported.Progress));
        var row = MonitorCore.Snapshot(g.State).Single(r => r.Node.NodeId == 2);
        Assert.Equal(("pg_rewind failed (exit 1)", "pg_basebackup from node 1 (h:1) running for 3 s"), (row.LastError, row.Progress));
        Assert.Null(MonitorCore.Snapshot(g.State).Single(r => r.Node.NodeId == 1).LastError);

        g.Do(ReportTrigger.From(wire with { Sequence = 1001, LastError = null, Progress = null }));
        Assert.Null(g[2].LastError);
        Assert.Null(g[2].Progress);
    }

    [Fact]
    public void Report_rules_for_timeline_and_lsn_zero()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary, lsn: 0x5000, timeline: 3);
        g.Report(2, lsn: 0, timeline: 0);
        Assert.Equal(0x5000UL, g[2].Lsn);
        Assert.Equal(3, g[2].Timeline);
    }

    [Fact]
    public void Snapshot_lists_every_node_for_show_state()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var rows = MonitorCore.Snapshot(g.State);
        Assert.Equal([1L, 2L], rows.Select(r => r.Node.NodeId));
        Assert.Equal((Primary, Primary), (rows[0].ReportedState, rows[0].GoalState));
        Assert.Equal("default", rows[1].Node.Formation);
    }

    [Fact]
    public void Goal_assignment_descriptions_name_the_node_and_the_reason()
    {
        var g = new G().Node(1, Primary, dead: true).Node(2, Secondary);
        var d = g.Report(2);
        Assert.Equal("Setting goal state of node 1 \"node_1\" (localhost:5401) to draining: node 1 \"node_1\" (localhost:5401) is unhealthy",
            d.Assignments[0].Description);
    }

    [Fact]
    public void Sync_standby_names_for_each_group_shape()
    {
        Assert.Equal("", SyncStandbyNames.Compute(new G().Node(1, NodeState.Single).State));
        Assert.Equal("ANY 1 (pgautofailover_standby_2)", SyncStandbyNames.Compute(new G().Node(1, Primary).Node(2, Secondary).State));
        Assert.Equal("", SyncStandbyNames.Compute(new G().Node(1, Primary).Node(2, CatchingUp).State));
        Assert.Equal("", SyncStandbyNames.Compute(new G().Node(1, Primary).Node(2, Secondary, quorum: false).State));
        // N > 2: priority descending, then node id; k = max(1, number_sync_standbys); any state counts.
        var three = new G(numberSyncStandbys: 2).Node(1, Primary).Node(2, Secondary, priority: 50)
            .Node(3, Maintenance, priority: 90).Node(4, CatchingUp, priority: 50).Node(5, Secondary, quorum: false);
        Assert.Equal("ANY 2 (pgautofailover_standby_3, pgautofailover_standby_2, pgautofailover_standby_4)", SyncStandbyNames.Compute(three.State));
        Assert.Equal("", SyncStandbyNames.Compute(new G().Node(1, WaitPrimary).Node(2, Secondary).Node(3, Secondary).State));
    }

    [Fact]
    public void Rule_table_ids_are_unique_and_cover_the_spec()
    {
        var ids = MonitorCore.RuleIds;
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var id in new[] { "REG-5", "REG-6", "REG-9", "GSM-1", "GSM-8", "GSM-17", "GSM-23", "GSM-26", "GSM-32",
                                   "PRI-1", "PRI-2", "PRI-3", "EL-1", "EL-3", "EL-5", "EL-8", "MAIN-REPLICATION-STALL",
                                   "MAIN-SELF-FENCED", "MAIN-ALONE-FROZEN", "MAIN-STUCK-FAST-FORWARD", "API-FAILOVER-ALLOW-DATA-LOSS" })
            Assert.Contains(id, ids);
    }

    [Fact]
    public void Every_goal_of_the_scenarios_has_a_keeper_edge()
    {
        foreach (var (from, to) in new[] { (Primary, Draining), (Draining, DemoteTimeout), (DemoteTimeout, Demoted), (Demoted, CatchingUp),
                                           (Secondary, ReportLsn), (ReportLsn, FastForward), (FastForward, PreparePromotion),
                                           (PreparePromotion, StopReplication), (StopReplication, WaitPrimary), (WaitPrimary, Primary) })
            Assert.True(States.KeeperCanReach(from, to), $"{from} -> {to}");
        Assert.False(States.KeeperCanReach(WaitPrimary, Draining)); // why #1168 exists
        Assert.False(States.KeeperCanReach(Maintenance, NodeState.Single));
    }
}

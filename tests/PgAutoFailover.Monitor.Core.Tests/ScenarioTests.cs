using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Rules;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>docs/states.md#monitor-rules end-to-end sequences replayed through the core, asserting each assignment.</summary>
public class ScenarioTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static void AssertGoals(Cluster c, params (long Node, NodeState Goal)[] expected)
    {
        foreach (var (node, goal) in expected) Assert.Equal(goal, c.Goal(node));
    }

    private static void AssertConverged(Cluster c, params (long Node, NodeState State)[] expected)
    {
        foreach (var (node, state) in expected)
        {
            Assert.Equal(state, c[node].GoalState);
            Assert.Equal(state, c[node].ReportedState);
        }
    }

    [Fact]
    public void Bootstrap_A_first_B_second()
    {
        var c = new Cluster();
        var d = c.Register(1);
        Assert.Equal(NodeState.Single, Assert.Single(d.Assignments).Goal); // REG-5
        c.Reach(1);
        d = c.Register(2);
        Assert.Equal(("REG-6", WaitStandby), (d.Assignments[0].Rule, d.Assignments[0].Goal));
        c.Reach(2);
        d = c.Report(1);
        Assert.Equal(("PRI-1", WaitPrimary), (d.Assignments[0].Rule, d.Assignments[0].Goal));
        c.Reach(1);
        d = c.Report(2);
        Assert.Equal(("GSM-13", CatchingUp), (d.Assignments[0].Rule, d.Assignments[0].Goal));
        d = c.Reach(2); // base backup done, streaming and caught up
        Assert.Equal(("GSM-16", Secondary), (d.Assignments[0].Rule, d.Assignments[0].Goal));
        c.Reach(2);
        d = c.Report(1);
        Assert.Equal(("PRI-2c", Primary), (d.Assignments[0].Rule, d.Assignments[0].Goal));
        c.Reach(1);
        AssertConverged(c, (1, Primary), (2, Secondary));
        Assert.Equal("ANY 1 (pgautofailover_standby_2)", SyncStandbyNames.Compute(c.State));
    }

    [Fact]
    public void Third_node_joins_while_primary()
    {
        var c = Cluster.WithNodes(2);
        var d = c.Register(3);
        Assert.Equal(WaitStandby, d.Assignments[0].Goal);
        Assert.Equal(1, c.State.Settings.NumberSyncStandbys); // REG-9
        d = c.Reach(3);
        Assert.Equal([("GSM-14", CatchingUp), ("GSM-14", ApplySettings)], d.Assignments.Select(a => (a.Rule, a.Goal)));
        d = c.Reach(1); // apply_settings reached
        Assert.Equal(("PRI-2d", Primary), (d.Assignments[0].Rule, d.Assignments[0].Goal));
        c.Converge();
        AssertConverged(c, (1, Primary), (2, Secondary), (3, Secondary));
        Assert.Equal("ANY 1 (pgautofailover_standby_2, pgautofailover_standby_3)", SyncStandbyNames.Compute(c.State));
    }

    [Fact]
    public void Unplanned_failover_with_one_standby()
    {
        var c = Cluster.WithNodes(2);
        var crash = c.Now;
        c.Dead.Add(1);
        // Detection: three failed probes and keeper silence.
        for (var i = 0; i < 20 && c.Goal(2) == Secondary; i++) c.Round();
        Assert.Equal(Draining, c.Goal(1));
        Assert.Equal(PreparePromotion, c.Goal(2));
        // Not before a whole lease without renewal (the writer's silence), nor later than the probes need.
        Assert.InRange(c.Now - crash, MonitorOptions.Default.PrimaryLease, TimeSpan.FromSeconds(4.5));
        c.Round();
        AssertGoals(c, (1, DemoteTimeout), (2, StopReplication)); // GSM-23
        for (var i = 0; i < 40 && c.Goal(2) != WaitPrimary; i++) c.Round(TimeSpan.FromMilliseconds(250));
        AssertGoals(c, (1, Demoted), (2, WaitPrimary)); // GSM-26 after demote timeout and lease
        output.WriteLine($"crash to wait_primary goal: {(c.Now - crash).TotalSeconds:0.0} s (keepers report every 250 ms)");
        Assert.True(c.Now - crash < TimeSpan.FromSeconds(8), $"took {c.Now - crash}");
        Assert.Equal(new[] { Draining, DemoteTimeout, Demoted }, c.GoalsOf(1).Skip(3));

        // The old primary comes back: told demoted, then catchingup, then secondary; B goes primary.
        c.Dead.Remove(1);
        c.Report(1, Primary);
        Assert.Equal(Demoted, c.Goal(1));
        c.Converge();
        AssertConverged(c, (1, Secondary), (2, Primary));
    }

    [Fact]
    public void Unplanned_failover_with_two_standbys()
    {
        var c = Cluster.WithNodes(3);
        c.Lsn[2] = 0x3000000; c.Lsn[3] = 0x2000000; c.Lsn[1] = 0x3000000;
        c.Round();
        c.Dead.Add(1);
        for (var i = 0; i < 20 && c.Goal(1) == Primary; i++) c.Round();
        Assert.Equal(Draining, c.Goal(1)); // GSM-8a
        AssertGoals(c, (2, ReportLsn), (3, ReportLsn)); // EL-2
        c.Converge();
        AssertConverged(c, (2, Primary), (3, Secondary));
        Assert.Equal([PreparePromotion, StopReplication, WaitPrimary, Primary], c.GoalsOf(2).SkipWhile(g => g != PreparePromotion));
        Assert.Equal([ReportLsn, JoinSecondary, Secondary], c.GoalsOf(3).SkipWhile(g => g != ReportLsn));
        Assert.Equal([Draining, DemoteTimeout, Demoted], c.GoalsOf(1).SkipWhile(g => g != Draining));
    }

    [Fact]
    public void A_standby_on_its_way_to_maintenance_joins_the_election_when_the_primary_is_gone()
    {
        // The end of property walk nss/3035: no primary left; node 6 (the old primary, outside the quorum) reports its
        // LSN; node 7, the only quorum standby, was on its way to maintenance when the primary went. The data-loss
        // guard (EL-5) waits for a quorum candidate, and node 7 was never asked to report: the group waited forever.
        var g = new G(numberSyncStandbys: 1)
            .Node(6, ReportLsn, priority: 100, quorum: false, lsn: 0x13E8C00)
            .Node(7, WaitMaintenance, lsn: 0x1365800)
            .Node(8, WaitStandby, goal: CatchingUp, lsn: 0, pgIsRunning: false); // reporting, but never got a base backup
        var d = g.Do(new TimerTrigger());
        Assert.Contains(G.Summary(d), a => a is { Rule: "EL-2", Node: 7, Goal: ReportLsn });
        // Once node 7 reported, the election is decided: node 6 holds the most WAL.
        g.Report(7, ReportLsn, lsn: 0x1365800);
        var after = g.Do(new TimerTrigger());
        Assert.True(g[6].GoalState == PreparePromotion, string.Join("; ", after.Notices));
    }

    [Fact]
    public void Switchover_with_three_nodes()
    {
        var c = Cluster.WithNodes(3);
        var d = c.Do(new FailoverCommand(Switchover: true));
        Assert.True(d.Accepted, d.Refusal?.Reason);
        Assert.Equal(Draining, c.Goal(1));
        Assert.Equal(-51, c[1].CandidatePriority);
        c.Converge();
        // Upstream docs show one interleaving (node1 demote_timeout → demoted → catchingup). Here node1 reports
        // draining before node2 is elected, so EL-2 sends the converged draining old primary to report_lsn
        // (docs/states.md#operator-commands perform_failover) and it rejoins through join_secondary; node2 is then promoted with no
        // primary left (GSM-24).
        Assert.Equal([Draining, ReportLsn, JoinSecondary, Secondary], c.GoalsOf(1).SkipWhile(g => g != Draining));
        Assert.Equal([ReportLsn, PreparePromotion, WaitPrimary, Primary], c.GoalsOf(2).SkipWhile(g => g != ReportLsn));
        Assert.Equal([ReportLsn, JoinSecondary, Secondary], c.GoalsOf(3).SkipWhile(g => g != ReportLsn));
        AssertConverged(c, (1, Secondary), (2, Primary), (3, Secondary));
        Assert.Equal(50, c[1].CandidatePriority); // EL-8 undid the penalty
    }

    [Fact]
    public void Switchover_with_two_nodes()
    {
        var c = Cluster.WithNodes(2);
        var d = c.Do(new FailoverCommand(Switchover: true));
        Assert.Equal([("API-FAILOVER", Draining), ("API-FAILOVER", PreparePromotion)], d.Assignments.Select(a => (a.Rule, a.Goal)));
        c.Converge();
        AssertConverged(c, (1, Secondary), (2, Primary));
    }

    /// <summary>
    /// Seen once in CI: a switchover asked right after the broker came back, before node 2's keeper reported
    /// again, was accepted (node 2's probe was good); node 1 reported draining and then report_lsn before node 2
    /// reported once, so ORPHAN-DEMOTED and an election (EL-8) made node 1 primary again (GSM-24) and node 2 was
    /// sent back (STALE-CANDIDATE): the switchover silently did not switch.
    /// </summary>
    [Fact]
    public void Switchover_right_after_a_broker_outage_waits_for_the_standby_then_switches()
    {
        var c = Cluster.WithNodes(2);
        c.Advance(TimeSpan.FromSeconds(10));            // broker outage: no report, no probe reaches the monitor
        c.Probe(1, true); c.Probe(2, true); c.Report(1); // back: probes and node 1's keeper, node 2's keeper not yet

        var refused = c.Do(new FailoverCommand(Switchover: true));
        refused.Refused(RefusalKind.CommandRefused, "cannot fail over: standby node 2 \"node_2\" (localhost:5402) has not reported for");
        Assert.EndsWith("; retry when it is healthy", refused.Refusal!.Reason);

        c.Report(2);
        c.Advance(TimeSpan.FromMilliseconds(200));
        Assert.True(c.Do(new FailoverCommand(Switchover: true)).Accepted);
        // Node 2's keeper learns its goal late; node 1 drains and re-reports meanwhile (probes stay good).
        for (var i = 0; i < 12; i++)
        {
            c.Advance(TimeSpan.FromMilliseconds(500));
            c.Probe(1, true); c.Probe(2, true);
            c.Reach(1);
        }
        AssertGoals(c, (1, Draining), (2, PreparePromotion)); // PROMOTION-ASSIGNED: node 1 does not join an election
        c.Converge();
        AssertConverged(c, (1, Secondary), (2, Primary));
        Assert.DoesNotContain(ReportLsn, c.GoalsOf(1));
    }

    [Fact]
    public void Promotion_of_a_given_node()
    {
        var c = Cluster.WithNodes(3);
        var d = c.Do(new PromotionCommand(3));
        Assert.True(d.Accepted, d.Refusal?.Reason);
        Assert.Equal(151, c[3].CandidatePriority);
        c.Converge();
        AssertConverged(c, (3, Primary), (1, Secondary), (2, Secondary));
        Assert.Equal(50, c[3].CandidatePriority);
    }

    [Fact]
    public void Maintenance_of_a_standby()
    {
        var c = Cluster.WithNodes(3);
        var d = c.Do(new EnableMaintenanceCommand(3));
        Assert.Equal(Maintenance, Assert.Single(d.Assignments).Goal);
        c.Converge();
        AssertConverged(c, (1, Primary), (2, Secondary), (3, Maintenance));
        d = c.Do(new DisableMaintenanceCommand(3));
        Assert.Equal(CatchingUp, Assert.Single(d.Assignments).Goal);
        c.Converge();
        AssertConverged(c, (1, Primary), (2, Secondary), (3, Secondary));
    }

    [Fact]
    public void Maintenance_of_the_last_sync_standby_goes_through_wait_maintenance()
    {
        var c = Cluster.WithNodes(2);
        var d = c.Do(new EnableMaintenanceCommand(2));
        Assert.Equal([(1L, WaitPrimary), (2L, WaitMaintenance)], d.Assignments.Select(a => (a.NodeId, a.Goal)));
        c.Converge();
        AssertConverged(c, (1, WaitPrimary), (2, Maintenance));
        c.Do(new DisableMaintenanceCommand(2));
        c.Converge();
        AssertConverged(c, (1, Primary), (2, Secondary));
    }

    [Fact]
    public void Maintenance_of_the_primary_with_two_nodes()
    {
        var c = Cluster.WithNodes(2);
        var d = c.Do(new EnableMaintenanceCommand(1, AllowFailover: true));
        Assert.Equal([(1L, PrepareMaintenance), (2L, PreparePromotion)], d.Assignments.Select(a => (a.NodeId, a.Goal)));
        c.Converge();
        AssertConverged(c, (1, Maintenance), (2, WaitPrimary));
        c.Do(new DisableMaintenanceCommand(1));
        c.Converge();
        AssertConverged(c, (1, Secondary), (2, Primary));
    }

    [Fact]
    public void Secondary_failure_and_recovery()
    {
        var c = Cluster.WithNodes(2);
        c.Dead.Add(2);
        for (var i = 0; i < 20 && c.Goal(2) == Secondary; i++) c.Round();
        AssertGoals(c, (2, CatchingUp), (1, WaitPrimary)); // PRI-2 fan-out, then PRI-2b
        Assert.Equal("", SyncStandbyNames.Compute(c.State));
        c.Dead.Remove(2);
        c.Converge();
        AssertConverged(c, (1, Primary), (2, Secondary));
    }

    [Fact]
    public void Drop_a_standby_then_the_last_one()
    {
        var c = Cluster.WithNodes(3);
        var d = c.Do(new DropNodeCommand(3));
        Assert.Contains(d.Assignments, a => a is { NodeId: 3, Goal: Dropped });
        Assert.Contains(d.Assignments, a => a is { NodeId: 1, Goal: ApplySettings });
        c.Converge();
        Assert.Null(c.State.Find(3)); // GSM-1 removed the row once it reported dropped
        AssertConverged(c, (1, Primary), (2, Secondary));
        c.Do(new DropNodeCommand(2));
        c.Converge();
        Assert.Null(c.State.Find(2));
        AssertConverged(c, (1, NodeState.Single));
    }

    [Fact]
    public void Drop_the_primary_waits_for_its_lease_then_the_standby_is_single()
    {
        var c = Cluster.WithNodes(2);
        var d = c.Do(new DropNodeCommand(1));
        Assert.Contains(d.Assignments, a => a is { NodeId: 2, Goal: ReportLsn });
        Assert.DoesNotContain(d.Assignments, a => a.Goal == NodeState.Single); // the old primary may still write
        c.Converge();
        AssertConverged(c, (2, NodeState.Single));
    }

    [Fact]
    public void Rejoin_after_failover_old_primary_rewinds_and_becomes_secondary()
    {
        var c = Cluster.WithNodes(3);
        c.Dead.Add(1);
        for (var i = 0; i < 60 && !(c.Goal(2) == Primary || c.Goal(3) == Primary); i++) c.Round();
        c.Dead.Remove(1);
        c.Report(1, Primary, lsn: 0x1000000);
        Assert.Equal(Demoted, c.Goal(1));
        c.Converge();
        Assert.Equal(Secondary, c[1].ReportedState);
        Assert.Single(c.State.Nodes, n => n.GoalState == Primary);
    }
}

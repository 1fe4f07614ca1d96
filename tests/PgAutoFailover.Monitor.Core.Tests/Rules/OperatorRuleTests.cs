using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests.Rules;

/// <summary>docs/states.md#operator-commands API-triggered rules, with their refusals.</summary>
public class OperatorRuleTests
{
    [Fact]
    public void API_FAILOVER_needs_two_nodes()
    {
        new G().Node(1, NodeState.Single).Do(new FailoverCommand()).Refused(RefusalKind.CommandRefused, "at least 2 nodes are required");
    }

    [Fact]
    public void API_FAILOVER_needs_a_converged_primary()
    {
        new G().Node(1, WaitPrimary).Node(2, CatchingUp).Do(new FailoverCommand())
            .Refused(RefusalKind.CommandRefused, "cannot fail over: node 1 \"node_1\" (localhost:5401) is already the group's primary, in wait_primary: no standby can take over from it yet");
        new G().Node(1, Primary, Draining, dead: true).Node(2, Secondary, PreparePromotion).Do(new FailoverCommand())
            .Refused(RefusalKind.CommandRefused, "cannot fail over: a failover is already under way: node 2 \"node_2\" (localhost:5402) is being promoted (goal prepare_promotion)");
        new G().Node(1, Demoted).Node(2, CatchingUp).Do(new FailoverCommand())
            .Refused(RefusalKind.CommandRefused, "couldn't find the primary node");
    }

    [Fact]
    public void API_FAILOVER_refuses_when_no_candidate_is_healthy()
    {
        new G().Node(1, Primary).Node(2, Secondary, dead: true).Do(new FailoverCommand())
            .Refused(RefusalKind.CommandRefused, "cannot fail over: no candidate node is healthy");
    }

    [Fact]
    public void API_FAILOVER_refuses_when_the_standby_has_priority_zero()
    {
        new G().Node(1, Primary).Node(3, Secondary, priority: 0).Do(new FailoverCommand())
            .Refused(RefusalKind.CommandRefused, "cannot fail over: node 3 has candidate priority 0");
    }

    [Fact]
    public void API_FAILOVER_two_nodes_needs_a_stable_pair()
    {
        new G().Node(1, Primary, ApplySettings).Node(2, Secondary).Node(3, CatchingUp, Dropped).Do(new FailoverCommand())
            .Refused(RefusalKind.CommandRefused, "couldn't find the primary node");
        new G().Node(1, Primary).Node(2, Secondary).With(2, n => n with { GoalState = CatchingUp, ReportedState = Secondary })
            .Do(new FailoverCommand()).Refused(RefusalKind.CommandRefused, "no candidate node is healthy");
    }

    [Fact]
    public void API_FAILOVER_FRESH_refuses_while_the_standby_has_not_reported()
    {
        // Probes say both nodes are up (the health-checker is back), but node 2's keeper is still silent.
        var g = new G().Node(1, Primary).Node(2, Secondary).With(2, n => n with { LastReportAt = G.Now - TimeSpan.FromSeconds(12) });
        g.Do(new FailoverCommand(Switchover: true)).Refused(RefusalKind.CommandRefused,
            "cannot fail over: standby node 2 \"node_2\" (localhost:5402) has not reported for 12 s; retry when it is healthy");
        g.Do(new FailoverCommand()).Refused(RefusalKind.CommandRefused, "node 2 \"node_2\" (localhost:5402) has not reported for 12 s");
        g.Do(new PromotionCommand(2)).Refused(RefusalKind.CommandRefused, "cannot promote: node 2 \"node_2\" (localhost:5402) has not reported for 12 s");
        g.Report(2);
        g.Do(new FailoverCommand(Switchover: true)).Assigns(("API-FAILOVER", 1, Draining), ("API-FAILOVER", 2, PreparePromotion));
    }

    [Fact]
    public void API_FAILOVER_FRESH_switchover_needs_a_reporting_primary_failover_does_not()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).With(1, n => n with { LastReportAt = G.Now - TimeSpan.FromSeconds(5) });
        g.Do(new FailoverCommand(Switchover: true)).Refused(RefusalKind.CommandRefused,
            "cannot switch over: primary node 1 \"node_1\" (localhost:5401) has not reported for 5 s; retry when it is healthy");
        g.Do(new FailoverCommand()).Assigns(("API-FAILOVER", 1, Draining), ("API-FAILOVER", 2, PreparePromotion));
    }

    [Fact]
    public void API_FAILOVER_FRESH_three_nodes_need_one_reporting_healthy_candidate()
    {
        var silent = TimeSpan.FromSeconds(4);
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary)
            .With(2, n => n with { LastReportAt = G.Now - silent }).With(3, n => n with { LastReportAt = G.Now - silent });
        g.Do(new FailoverCommand()).Refused(RefusalKind.CommandRefused,
            "cannot fail over: no healthy candidate has reported in the last 2 s; retry when one is healthy");
        g.Report(3);
        Assert.True(g.Do(new FailoverCommand()).Accepted);
    }

    [Fact]
    public void API_FAILOVER_two_nodes_drains_primary_and_prepares_standby()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var d = g.Do(new FailoverCommand());
        d.Assigns(("API-FAILOVER", 1, Draining), ("API-FAILOVER", 2, PreparePromotion));
        Assert.Contains(d.Events, e => e is Events.FailoverBegan { Planned: true, OldPrimaryId: 1 });
    }

    [Fact]
    public void API_FAILOVER_three_nodes_penalises_the_old_primary_and_starts_the_election()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        var d = g.Do(new FailoverCommand());
        Assert.Equal(("API-FAILOVER", 1L, Draining), G.Summary(d).First());
        Assert.Equal(-51, g[1].CandidatePriority);
        // The election starts once the draining primary reports PostgreSQL stopped (it is then unhealthy).
        g.Report(1, Draining, pgIsRunning: false);
        Assert.Contains(("EL-2", 2L, ReportLsn), G.Summary(g.Report(2)));
    }

    [Fact]
    public void API_FAILOVER_ALLOW_DATA_LOSS_decides_an_election_stuck_on_the_guard()
    {
        var g = new G().Node(1, Primary, Draining, dead: true).Node(2, ReportLsn).Node(3, Secondary, ReportLsn, dead: true);
        g.Report(2).AssignsNothing();
        g.Do(new FailoverCommand()).Refused(RefusalKind.CommandRefused, "the election waits for");
        // Node 3 is silent and last said it was streaming: it may keep the old primary alive in a partition,
        // so even without the guard the operator must first assert it is gone (forced removal).
        g.Do(new FailoverCommand(AllowDataLoss: true)).Refused(RefusalKind.CommandRefused,
            "may still accept writes for as long as node 3 \"node_3\" (localhost:5403), silent since it last said it was streaming, may still " +
            "stream from it and acknowledge its commits: until it reports again, or is removed with pgaf drop node --force once known to be lost");
        Assert.True(g.Do(new DropNodeCommand(3, Force: true)).Accepted);
        // The removal starts the old primary's last lease: the refusal says until when, to the millisecond, in UTC.
        var wait = g.Do(new FailoverCommand(AllowDataLoss: true));
        wait.Refused(RefusalKind.CommandRefused, "may still accept writes until ");
        Assert.Matches(@"until \d\d:\d\d:\d\d\.\d{3} UTC \(\d+\.\d s from now\)", wait.Refusal!.Reason);
        g.Do(new FailoverCommand(AllowDataLoss: true), at: G.Now + TimeSpan.FromSeconds(3)).Assigns(("EL-8", 2, PreparePromotion));
    }

    [Fact]
    public void A_failover_refused_on_the_data_loss_guard_says_what_is_waited_for_and_how_far_behind_the_candidate_is()
    {
        // Node 1 (the old primary) last reported 0/3000100; node 2 froze at 0/3000060; node 3, silent, may have it all.
        var g = new G().Node(1, Primary, Draining, dead: true, lsn: 0x3000100).Node(2, ReportLsn, lsn: 0x3000060)
            .Node(3, Secondary, ReportLsn, dead: true, lsn: 0x3000100);
        g.State = g.State with { Failover = new Model.FailoverInProgress(Guid.NewGuid(), 1, "node 1 is unhealthy", false, G.Now - TimeSpan.FromSeconds(5)) };
        g.Report(2).AssignsNothing();
        var refusal = g.Do(new FailoverCommand());
        refusal.Refused(RefusalKind.CommandRefused, "cannot fail over: the election waits for the WAL position of node 3 \"node_3\"");
        Assert.Contains("the best candidate, node 2 \"node_2\"", refusal.Refusal!.Reason);
        Assert.Contains("has WAL up to 0/3000060, 160 bytes behind what node 1 \"node_1\"", refusal.Refusal.Reason);
        Assert.Contains("--allow-data-loss elects it without waiting", refusal.Refusal.Reason);
    }

    [Fact]
    public void API_PROMOTION_refusals()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary, priority: 0).Node(4, CatchingUp);
        g.Do(new PromotionCommand(9)).Refused(RefusalKind.UnknownNode, "node 9");
        g.Do(new PromotionCommand(3)).Refused(RefusalKind.CommandRefused, "node 3 has candidate priority 0");
        g.Do(new PromotionCommand(4)).Refused(RefusalKind.CommandRefused, "expected secondary");
        var already = g.Do(new PromotionCommand(1));
        already.AssignsNothing();
        Assert.Contains(already.Notices, n => n.Contains("already a primary"));
    }

    [Fact]
    public void API_PROMOTION_boosts_the_node_and_fails_over()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        var d = g.Do(new PromotionCommand(3));
        Assert.True(d.Accepted);
        Assert.Equal(151, g[3].CandidatePriority);
        Assert.Equal(Draining, g[1].GoalState);
    }

    [Fact]
    public void API_START_MAINTENANCE_of_a_standby()
    {
        new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary).Do(new EnableMaintenanceCommand(3))
            .Assigns(("API-START-MAINTENANCE", 3, Maintenance));
    }

    [Fact]
    public void API_START_MAINTENANCE_of_the_last_sync_standby_disables_sync_first()
    {
        new G().Node(1, Primary).Node(2, Secondary).Do(new EnableMaintenanceCommand(2))
            .Assigns(("API-START-MAINTENANCE", 1, WaitPrimary), ("API-START-MAINTENANCE", 2, WaitMaintenance));
    }

    [Fact]
    public void API_START_MAINTENANCE_of_the_primary()
    {
        new G().Node(1, Primary).Node(2, Secondary).Do(new EnableMaintenanceCommand(1))
            .Assigns(("API-START-MAINTENANCE", 1, PrepareMaintenance), ("API-START-MAINTENANCE", 2, PreparePromotion));
        new G().Node(1, Primary).Node(2, Secondary).Do(new EnableMaintenanceCommand(1, AllowFailover: false))
            .Refused(RefusalKind.CommandRefused, "--allow-failover");
        new G().Node(1, Primary).Node(2, Secondary, dead: true).Do(new EnableMaintenanceCommand(1))
            .Refused(RefusalKind.CommandRefused, "0 candidate nodes");
    }

    [Fact]
    public void API_FAILOVER_FRESH_maintenance_of_the_primary_needs_both_keepers_reporting()
    {
        // Two nodes: the silent standby would get prepare_promotion late while the primary stops.
        var g = new G().Node(1, Primary).Node(2, Secondary).With(2, n => n with { LastReportAt = G.Now - TimeSpan.FromSeconds(12) });
        g.Do(new EnableMaintenanceCommand(1)).Refused(RefusalKind.CommandRefused,
            "cannot start maintenance on node 1 \"node_1\" (localhost:5401): standby node 2 \"node_2\" (localhost:5402) has not reported for 12 s; retry when it is healthy");
        g.Report(2);
        g.With(1, n => n with { LastReportAt = G.Now - TimeSpan.FromSeconds(5) }).Do(new EnableMaintenanceCommand(1)).Refused(RefusalKind.CommandRefused,
            "cannot start maintenance on node 1 \"node_1\" (localhost:5401): it has not reported for 5 s; retry when it is healthy");
        g.Report(1);
        g.Do(new EnableMaintenanceCommand(1)).Assigns(("API-START-MAINTENANCE", 1, PrepareMaintenance), ("API-START-MAINTENANCE", 2, PreparePromotion));

        // Three nodes: one reporting healthy candidate is enough.
        var silent = TimeSpan.FromSeconds(4);
        var three = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary)
            .With(2, n => n with { LastReportAt = G.Now - silent }).With(3, n => n with { LastReportAt = G.Now - silent });
        three.Do(new EnableMaintenanceCommand(1)).Refused(RefusalKind.CommandRefused, "no healthy candidate has reported in the last 2 s");
        three.Report(3);
        Assert.True(three.Do(new EnableMaintenanceCommand(1)).Accepted);
    }

    [Fact]
    public void API_START_MAINTENANCE_is_idempotent_and_refuses_other_states()
    {
        new G().Node(1, Primary).Node(2, Maintenance).Do(new EnableMaintenanceCommand(2)).AssignsNothing();
        new G().Node(1, Primary).Node(2, ReportLsn).Do(new EnableMaintenanceCommand(2))
            .Refused(RefusalKind.CommandRefused, "cannot start maintenance");
    }

    [Fact]
    public void API_STOP_MAINTENANCE_rejoins_the_primary_or_the_election()
    {
        new G().Node(1, Primary).Node(2, Maintenance).Do(new DisableMaintenanceCommand(2))
            .Assigns(("API-STOP-MAINTENANCE", 2, CatchingUp));
        new G().Node(1, Primary, Draining, dead: true).Node(2, Maintenance).Node(3, ReportLsn).Do(new DisableMaintenanceCommand(2))
            .Assigns(("API-STOP-MAINTENANCE", 2, ReportLsn));
        new G().Node(1, Primary).Node(2, Secondary).Do(new DisableMaintenanceCommand(2))
            .Refused(RefusalKind.CommandRefused, "not maintenance");
    }

    [Fact]
    public void API_STOP_MAINTENANCE_alone_runs_the_state_machine()
    {
        new G().Node(1, Maintenance).Do(new DisableMaintenanceCommand(1)).Assigns(("GSM-4", 1, ReportLsn));
    }

    [Fact]
    public void API_SET_CANDIDATE_PRIORITY_stores_and_refreshes_the_primary()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        g.Do(new SetCandidatePriorityCommand(2, 80)).Assigns(("API-SET-CANDIDATE-PRIORITY", 1, ApplySettings));
        Assert.Equal(80, g[2].CandidatePriority);
        g.Do(new SetCandidatePriorityCommand(2, 101)).Refused(RefusalKind.CommandRefused, "between 0 and 100");
        g.State = g.State with { AllNodes = g.State.AllNodes.SetItem(1, g[1] with { ReportedState = ApplySettings }) };
        g.Do(new SetCandidatePriorityCommand(2, 70)).Refused(RefusalKind.CommandRefused, "apply_settings");
    }

    [Fact]
    public void API_SET_REPLICATION_QUORUM_checks_number_sync_standbys()
    {
        var g = new G(numberSyncStandbys: 1).Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        g.Do(new SetReplicationQuorumCommand(3, false)).Refused(RefusalKind.CommandRefused, "can't set replication quorum to false");
        var ok = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        ok.Do(new SetReplicationQuorumCommand(3, false)).Assigns(("API-SET-REPLICATION-QUORUM", 1, ApplySettings));
        Assert.False(ok[3].ReplicationQuorum);
    }

    [Fact]
    public void API_SET_NUMBER_SYNC_STANDBYS_needs_enough_quorum_standbys()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        g.Do(new SetNumberSyncStandbysCommand(2)).Refused(RefusalKind.CommandRefused, "at least 3 quorum standbys");
        g.Do(new SetNumberSyncStandbysCommand(-1)).Refused(RefusalKind.CommandRefused, "0 or more");
        g.Do(new SetNumberSyncStandbysCommand(1)).Assigns(("API-SET-NUMBER-SYNC-STANDBYS", 1, ApplySettings));
        Assert.Equal(1, g.State.Settings.NumberSyncStandbys);
        new G().Node(1, Primary, Draining).Node(2, Secondary).Do(new SetNumberSyncStandbysCommand(0))
            .Refused(RefusalKind.CommandRefused, "primary must be in state primary or wait_primary");
    }

    [Fact]
    public void API_REMOVE_NODE_of_a_standby_refreshes_the_primary()
    {
        var g = new G(numberSyncStandbys: 1).Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        var d = g.Do(new DropNodeCommand(3));
        Assert.Contains(("API-REMOVE-NODE", 3L, Dropped), G.Summary(d));
        Assert.Contains(("API-REMOVE-NODE", 1L, ApplySettings), G.Summary(d));
        Assert.Equal(0, g.State.Settings.NumberSyncStandbys);
        g.Do(new DropNodeCommand(3)).AssignsNothing(); // idempotent
    }

    [Fact]
    public void API_REMOVE_NODE_of_the_primary_sends_standbys_to_report_lsn()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        var d = g.Do(new DropNodeCommand(1));
        Assert.Contains(("API-REMOVE-NODE", 2L, ReportLsn), G.Summary(d));
        Assert.Contains(("API-REMOVE-NODE", 3L, ReportLsn), G.Summary(d));
        Assert.Contains(("API-REMOVE-NODE", 1L, Dropped), G.Summary(d));
    }

    [Fact]
    public void API_REMOVE_NODE_force_is_refused_while_the_node_may_still_write()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).With(1, n => n with { LeaseExpiresAt = G.Now + TimeSpan.FromSeconds(2) });
        g.Do(new DropNodeCommand(1, Force: true)).Refused(RefusalKind.CommandRefused, "may still accept writes");
        var d = g.Do(new DropNodeCommand(2, Force: true));
        Assert.Contains(d.Events, e => e is Events.NodeRemoved { NodeId: 2 });
        g.Do(new DropNodeCommand(7)).Refused(RefusalKind.UnknownNode, "node 7");
    }

    [Fact]
    public void Settings_changed_during_a_failover_are_stored_without_retargeting_the_primary()
    {
        var g = new G().Node(1, WaitPrimary, dead: true).Node(2, PreparePromotion).Node(3, Secondary);
        g.State = g.State with { Failover = new Model.FailoverInProgress(Guid.NewGuid(), 1, "test", false, G.Now) };
        g.Do(new SetCandidatePriorityCommand(3, 10)).AssignsNothing();
        Assert.Equal(10, g[3].CandidatePriority);
        g.Do(new SetNumberSyncStandbysCommand(0)).Refused(RefusalKind.CommandRefused, "a failover is in progress");
    }

    [Fact]
    public void API_UPDATE_NODE_METADATA_renames_and_moves_a_node_with_one_event_and_no_goal_change()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var syncNames = Core.Rules.SyncStandbyNames.Compute(g.State);
        var d = g.Do(new UpdateNodeMetadataCommand(1, Name: "east", Port: 6001));
        d.AssignsNothing();
        var changed = Assert.Single(d.Events.OfType<Core.Events.NodeMetadataChanged>());
        Assert.Equal((1L, "east", "localhost", 6001, "node_1", "localhost", 5401), (changed.NodeId, changed.Name, changed.Host, changed.Port,
            changed.PreviousName, changed.PreviousHost, changed.PreviousPort));
        Assert.Equal(("east", "localhost", 6001), (g[1].Name, g[1].Host, g[1].Port));
        Assert.Contains("node 1 \"east\" (localhost:6001) updated", Assert.Single(d.Notices));
        // Standbys are named by node id in synchronous_standby_names: a rename does not change it.
        Assert.Equal(syncNames, Core.Rules.SyncStandbyNames.Compute(g.State));
        // The standby's goal names the primary at its new address.
        Assert.Equal(("east", "localhost", 6001), MonitorCore.GoalFor(g.State, 2)!.Primary is { } p ? (p.NodeName, p.Host, p.Port) : default);

        g.Do(new UpdateNodeMetadataCommand(2, Host: "10.0.0.2")).AssignsNothing();
        Assert.Equal(("node_2", "10.0.0.2", 5402), (g[2].Name, g[2].Host, g[2].Port));
    }

    [Fact]
    public void API_UPDATE_NODE_METADATA_that_changes_nothing_is_accepted_without_an_event()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var d = g.Do(new UpdateNodeMetadataCommand(2, "node_2", "localhost", 5402));
        d.AssignsNothing();
        Assert.Empty(d.Events);
        Assert.Contains("nothing changed", Assert.Single(d.Notices));
        Assert.Empty(g.Do(new UpdateNodeMetadataCommand(2)).Events);
    }

    [Fact]
    public void API_UPDATE_NODE_METADATA_refuses_in_one_line_why()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        g.Do(new UpdateNodeMetadataCommand(7, Name: "x")).Refused(RefusalKind.UnknownNode, "node 7 is not registered");
        g.Do(new UpdateNodeMetadataCommand(2, Name: " ")).Refused(RefusalKind.CommandRefused, "node name must not be empty");
        g.Do(new UpdateNodeMetadataCommand(2, Name: new string('n', 64))).Refused(RefusalKind.CommandRefused, "at most 63 characters");
        g.Do(new UpdateNodeMetadataCommand(2, Host: "")).Refused(RefusalKind.CommandRefused, "host must not be empty");
        g.Do(new UpdateNodeMetadataCommand(2, Port: 0)).Refused(RefusalKind.CommandRefused, "port 0 is not between 1 and 65535");
        g.Do(new UpdateNodeMetadataCommand(2, Port: 65536)).Refused(RefusalKind.CommandRefused, "port 65536 is not between 1 and 65535");
        g.Do(new UpdateNodeMetadataCommand(2, Name: "node_1")).Refused(RefusalKind.CommandRefused,
            "cannot rename node 2 \"node_2\" (localhost:5402): node 1 is already named \"node_1\" in formation default");
        g.Do(new UpdateNodeMetadataCommand(2, Port: 5401)).Refused(RefusalKind.CommandRefused,
            "cannot move node 2 \"node_2\" (localhost:5402) to localhost:5401: node 1 \"node_1\" is registered there");
        // A node being dropped is gone for the operator.
        new G().Node(1, Primary).Node(2, Secondary, Dropped).Do(new UpdateNodeMetadataCommand(2, Name: "y")).Refused(RefusalKind.UnknownNode, "node 2");
        Assert.Equal(("node_2", "localhost", 5402), (g[2].Name, g[2].Host, g[2].Port));
    }

    [Fact]
    public void API_UPDATE_NODE_METADATA_may_take_a_name_or_address_a_node_gave_up_in_the_same_group()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        g.Do(new UpdateNodeMetadataCommand(1, Name: "old_one", Port: 6001)).AssignsNothing();
        g.Do(new UpdateNodeMetadataCommand(2, Name: "node_1", Port: 5401)).AssignsNothing();
        Assert.Equal(("node_1", 5401), (g[2].Name, g[2].Port));
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests.Rules;

/// <summary>One test (or more) per rule of docs/states.md#group-state-machine-generated, named after it.</summary>
public class GroupStateMachineRuleTests
{
    [Fact]
    public void GSM_1_converged_dropped_node_is_removed()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary, Dropped);
        var d = g.Report(2, Dropped, pgIsRunning: false);
        Assert.Contains(d.Events, e => e is Events.NodeRemoved { NodeId: 2 });
        Assert.Null(g.State.Find(2));
    }

    [Fact]
    public void GSM_2_node_being_dropped_gets_nothing_else()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary, Dropped);
        g.Report(2).AssignsNothing();
        Assert.Equal(Dropped, g[2].GoalState);
    }

    [Fact]
    public void GSM_3_converged_maintenance_is_frozen()
    {
        var g = new G().Node(1, Primary).Node(2, Maintenance);
        g.Report(2).AssignsNothing();
    }

    [Fact]
    public void GSM_4_alone_candidate_goes_single()
    {
        var g = new G().Node(1, Secondary);
        g.Report(1).Assigns(("GSM-4", 1, NodeState.Single));
    }

    [Fact]
    public void GSM_4_MAIN_alone_primary_with_priority_zero_goes_single()
    {
        var g = new G().Node(1, Primary, priority: 0);
        g.Report(1).Assigns(("GSM-4", 1, NodeState.Single));
    }

    [Fact]
    public void GSM_4_alone_in_maintenance_goes_through_report_lsn()
    {
        var g = new G().Node(1, Maintenance, CatchingUp);
        g.Report(1).Assigns(("GSM-4", 1, ReportLsn));
    }

    [Fact]
    public void GSM_5_alone_with_priority_zero_reports_lsn()
    {
        var g = new G().Node(1, Secondary, priority: 0);
        g.Report(1).Assigns(("GSM-5", 1, ReportLsn));
    }

    [Theory]
    [InlineData(WaitStandby)]
    [InlineData(JoinSecondary)]
    [InlineData(PrepareMaintenance)]
    public void MAIN_ALONE_FROZEN_lone_node_with_possibly_stale_data_is_not_made_single(NodeState state)
    {
        var g = new G().Node(1, state);
        g.Report(1).AssignsNothing();
    }

    [Fact]
    public void MAIN_ALONE_FROZEN_operator_promotion_accepts_the_lone_node_data()
    {
        var g = new G().Node(1, JoinSecondary, Secondary);
        g.Report(1).AssignsNothing();
        g.Do(new PromotionCommand(1)).Assigns(("API-PROMOTION", 1, ReportLsn));
        g.Report(1, ReportLsn).Assigns(("GSM-4", 1, NodeState.Single));
    }

    [Fact]
    public void GSM_6_primary_state_runs_primary_rules()
    {
        var g = new G().Node(1, NodeState.Single).Node(2, WaitStandby);
        g.Report(1).Assigns(("PRI-1", 1, WaitPrimary));
    }

    [Fact]
    public void GSM_7_no_primary_runs_an_election_for_stranded_standbys()
    {
        var g = new G().Node(2, Secondary).Node(3, Secondary);
        g.Report(2).Assigns(("EL-2", 2, ReportLsn), ("EL-2", 3, ReportLsn));
    }

    [Fact]
    public void GSM_8_a_unhealthy_primary_with_three_nodes_is_drained_and_standbys_report_lsn()
    {
        var g = new G().Node(1, Primary, dead: true).Node(2, Secondary).Node(3, Secondary);
        var d = g.Report(2);
        d.Assigns(("GSM-8a", 1, Draining), ("EL-2", 2, ReportLsn), ("EL-2", 3, ReportLsn));
        Assert.Contains(d.Events, e => e is Events.FailoverBegan { OldPrimaryId: 1, Planned: false });
    }

    [Fact]
    public void GSM_8b_unhealthy_primary_in_prepare_maintenance_goes_maintenance()
    {
        var g = new G().Node(1, PrepareMaintenance, dead: true).Node(2, Secondary).Node(3, Secondary);
        var d = g.Report(2);
        Assert.Equal(("GSM-8b", 1L, Maintenance), G.Summary(d).First());
    }

    [Fact]
    public void GSM_8c_election_that_decides_nothing_lets_later_rules_run()
    {
        // Node 3 is unhealthy with quorum and never reported report_lsn: EL-3 waits, GSM-8 continues.
        var g = new G().Node(1, Primary, Draining, dead: true).Node(2, ReportLsn).Node(3, Secondary, dead: true);
        g.Report(2).AssignsNothing();
    }

    [Fact]
    public void GSM_9_report_lsn_follows_a_healthy_wait_primary()
    {
        var g = new G().Node(1, WaitPrimary).Node(2, ReportLsn).Node(3, Secondary);
        g.Report(2).Assigns(("GSM-9", 2, Secondary));
    }

    [Fact]
    public void GSM_10_report_lsn_follows_a_healthy_primary()
    {
        var g = new G().Node(1, Primary).Node(2, ReportLsn).Node(3, Secondary);
        g.Report(2).Assigns(("GSM-10", 2, Secondary));
    }

    [Fact]
    public void GSM_11_fast_forward_done_prepares_promotion()
    {
        var g = new G().Node(1, Primary, Demoted, dead: true).Node(2, FastForward, lsn: 0x4000000).Node(3, ReportLsn, lsn: 0x4000000);
        g.Report(2).Assigns(("GSM-11", 2, PreparePromotion));
    }

    [Fact]
    public void FAST_FORWARD_SHORT_a_candidate_still_behind_goes_back_to_report_lsn()
    {
        var g = new G().Node(1, Primary, Demoted, dead: true).Node(2, FastForward, lsn: 0x3000000).Node(3, ReportLsn, lsn: 0x4000000);
        g.Report(2).Assigns(("FAST-FORWARD-SHORT", 2, ReportLsn));
    }

    [Fact]
    public void MAIN_STUCK_FAST_FORWARD_without_a_healthy_source_returns_to_report_lsn()
    {
        var g = new G().Node(1, Primary, Draining, dead: true).Node(2, ReportLsn, FastForward, lsn: 0x3000000)
            .Node(3, ReportLsn, lsn: 0x4000000, dead: true);
        g.Report(2).Assigns(("MAIN-STUCK-FAST-FORWARD", 2, ReportLsn));
    }

    [Fact]
    public void GSM_12_converged_report_lsn_runs_the_election()
    {
        var g = new G().Node(1, Primary, Draining, dead: true).Node(2, ReportLsn, lsn: 0x4000000).Node(3, ReportLsn);
        g.Report(2).Assigns(("EL-8", 2, PreparePromotion));
    }

    [Fact]
    public void GSM_13_wait_standby_catches_up_with_a_wait_primary()
    {
        var g = new G().Node(1, WaitPrimary).Node(2, WaitStandby);
        g.Report(2).Assigns(("GSM-13", 2, CatchingUp));
    }

    [Fact]
    public void GSM_14_quorum_standby_joining_a_primary_makes_it_apply_settings()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, WaitStandby);
        g.Report(3).Assigns(("GSM-14", 3, CatchingUp), ("GSM-14", 1, ApplySettings));
    }

    [Fact]
    public void GSM_15_async_standby_joining_a_primary_needs_no_settings()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, WaitStandby, quorum: false);
        g.Report(3).Assigns(("GSM-15", 3, CatchingUp));
    }

    [Fact]
    public void GSM_16_caught_up_standby_becomes_secondary()
    {
        var g = new G().Node(1, WaitPrimary, lsn: 0x5000000).Node(2, CatchingUp, lsn: 0x5000000 - 1024);
        g.Report(2).Assigns(("GSM-16", 2, Secondary));
    }

    [Fact]
    public void GSM_16_not_while_more_than_the_threshold_behind_or_on_another_timeline()
    {
        var g = new G().Node(1, WaitPrimary, lsn: 0x9000000).Node(2, CatchingUp, lsn: 0x1000000);
        g.Report(2).AssignsNothing();
        g = new G().Node(1, WaitPrimary, timeline: 2).Node(2, CatchingUp);
        g.Report(2).AssignsNothing();
    }

    [Fact]
    public void GSM_16_not_while_the_standbys_wal_receiver_is_disconnected()
    {
        // A standby back from a network cut: its LSN is within the threshold, its receiver has not reconnected yet.
        var g = new G().Node(1, WaitPrimary, lsn: 0x5000000).Node(2, CatchingUp, lsn: 0x5000000 - 1024);
        g.Report(2, rep: States.StandbyNotStreaming).AssignsNothing();
        Assert.Equal(WaitPrimary, g[1].GoalState);
        g.Report(2, rep: "streaming").Assigns(("GSM-16", 2, Secondary));
    }

    [Fact]
    public void GSM_17_single_standby_failover()
    {
        var g = new G().Node(1, Primary, dead: true).Node(2, Secondary);
        g.Report(2).Assigns(("GSM-17", 1, Draining), ("GSM-17", 2, PreparePromotion));
    }

    [Fact]
    public void GSM_17_not_for_a_candidate_with_priority_zero_or_too_far_behind()
    {
        new G().Node(1, Primary, dead: true).Node(2, Secondary, priority: 0).Report(2).AssignsNothing();
        new G().Node(1, Primary, dead: true, lsn: 0x9000000).Node(2, Secondary, lsn: 0x1000000).Report(2).AssignsNothing();
    }

    [Fact]
    public void GSM_17_not_while_the_primary_is_healthy()
    {
        new G().Node(1, Primary).Node(2, Secondary).Report(2).AssignsNothing();
    }

    [Fact]
    public void MAIN_1168_STOP_REPLICATION_and_MAIN_1168_PROMOTE_primary_failing_in_wait_primary_is_not_drained()
    {
        var g = new G().Node(1, WaitPrimary, dead: true).Node(2, Secondary);
        var d = g.Report(2);
        d.Assigns(("GSM-17", 2, PreparePromotion));
        g.Report(2, PreparePromotion).Assigns(("MAIN-1168-STOP-REPLICATION", 2, StopReplication));
        // Promotion waits for the demote timeout since the candidate's last goal change, and for the lease.
        g.Report(2, StopReplication).AssignsNothing();
        g.Report(2, StopReplication, at: G.Now + g.Core.Options.DemoteTimeout)
            .Assigns(("MAIN-1168-PROMOTE", 1, Demoted), ("MAIN-1168-PROMOTE", 2, WaitPrimary));
    }

    [Fact]
    public void GSM_18_wait_maintenance_with_primary_in_wait_primary_goes_maintenance()
    {
        var g = new G().Node(1, WaitPrimary).Node(2, WaitMaintenance);
        g.Report(2).Assigns(("GSM-18", 2, Maintenance));
    }

    [Fact]
    public void GSM_19_wait_maintenance_when_primary_goal_is_not_wait_primary_goes_maintenance()
    {
        var g = new G().Node(1, Primary).Node(2, WaitMaintenance).Node(3, Secondary);
        g.Report(2).Assigns(("GSM-19", 2, Maintenance));
    }

    [Fact]
    public void GSM_20_candidate_stops_replication_when_primary_is_in_prepare_maintenance()
    {
        var g = new G().Node(1, PrepareMaintenance).Node(2, PreparePromotion);
        g.Report(2).Assigns(("GSM-20", 2, StopReplication));
    }

    [Fact]
    public void GSM_23_candidate_stops_replication_and_primary_demote_timeout()
    {
        var g = new G().Node(1, Primary, Draining, dead: true).Node(2, PreparePromotion);
        g.Report(2).Assigns(("GSM-23", 1, DemoteTimeout), ("GSM-23", 2, StopReplication));
    }

    [Fact]
    public void GSM_24_candidate_with_no_primary_left_takes_writes()
    {
        var g = new G().Node(2, PreparePromotion).Node(3, ReportLsn);
        g.Report(2).Assigns(("GSM-24", 2, WaitPrimary));
    }

    [Fact]
    public void GSM_25_candidate_takes_over_from_primary_in_maintenance()
    {
        var g = new G().Node(1, PrepareMaintenance).Node(2, StopReplication);
        g.Report(2).Assigns(("GSM-25", 1, Maintenance), ("GSM-25", 2, WaitPrimary));
    }

    [Fact]
    public void GSM_26_promotion_completes_when_old_primary_confirmed_demote_timeout()
    {
        var g = new G().Node(1, DemoteTimeout, pgIsRunning: false).Node(2, StopReplication);
        g.Report(2).Assigns(("GSM-26", 1, Demoted), ("GSM-26", 2, WaitPrimary));
    }

    [Fact]
    public void GSM_26_promotion_completes_after_demote_timeout_and_lease_of_a_silent_primary()
    {
        var g = new G().Node(1, Primary, DemoteTimeout, dead: true).Node(2, StopReplication)
            .With(1, n => n with { StateChangedAt = G.Now - TimeSpan.FromSeconds(1), LeaseExpiresAt = G.Now + TimeSpan.FromSeconds(1) })
            .With(2, n => n with { StreamingUntil = G.Now - TimeSpan.FromSeconds(0.5) });
        var o = MonitorOptions.Default;
        // Fenced at max(lease end = now + 1 s, stopped streaming + L) + margin.
        var leaseEnd = G.Now + TimeSpan.FromSeconds(1);
        var streamingEnd = G.Now - TimeSpan.FromSeconds(0.5) + o.PrimaryLease;
        var fenced = (leaseEnd > streamingEnd ? leaseEnd : streamingEnd) + o.LeaseSafetyMargin;
        var d = g.Report(2);
        d.AssignsNothing(); // the old primary may still be writing
        Assert.Equal(fenced, d.WakeAt); // the service decides again at that instant
        g.Report(2, at: fenced - TimeSpan.FromMilliseconds(100)).AssignsNothing(); // lease + margin not over
        g.Report(2, at: fenced + TimeSpan.FromMilliseconds(100)).Assigns(("GSM-26", 1, Demoted), ("GSM-26", 2, WaitPrimary));
    }

    [Fact]
    public void A_new_reported_state_asks_for_the_group_to_be_decided_again_at_once()
    {
        // GSM-26 is the candidate's rule: when the old primary confirms last, the candidate's rule must run without
        // waiting for the candidate's next report (the service decides the group again at WakeAt).
        var g = new G().Node(1, Draining, DemoteTimeout).Node(2, StopReplication);
        var d = g.Report(1, DemoteTimeout, pgIsRunning: false);
        d.AssignsNothing();
        Assert.Equal(G.Now, d.WakeAt);
        Assert.Null(g.Report(1, DemoteTimeout, pgIsRunning: false, at: G.Now + TimeSpan.FromMilliseconds(100)).WakeAt); // nothing new
    }

    [Fact]
    public void GSM_29_demoted_node_follows_new_primary_on_its_way_to_primary()
    {
        var g = new G().Node(1, Demoted).Node(2, WaitPrimary, Primary);
        g.Report(1).Assigns(("GSM-29", 1, CatchingUp));
    }

    [Fact]
    public void GSM_30_demoted_node_follows_converged_new_primary()
    {
        var g = new G().Node(1, Demoted).Node(2, WaitPrimary);
        g.Report(1).Assigns(("GSM-30", 1, CatchingUp));
    }

    [Fact]
    public void GSM_31_join_secondary_follows_wait_primary_and_primary_rules_run()
    {
        var g = new G().Node(1, Demoted).Node(2, WaitPrimary).Node(3, JoinSecondary);
        var d = g.Report(3);
        Assert.Equal(("GSM-31", 3L, Secondary), G.Summary(d).First());
    }

    [Fact]
    public void GSM_32_join_secondary_follows_converged_primary()
    {
        var g = new G().Node(1, Secondary).Node(2, Primary).Node(3, JoinSecondary);
        g.Report(3).Assigns(("GSM-32", 3, Secondary));
    }

    [Fact]
    public void MAIN_SELF_FENCED_demote_timeout_reported_with_unreachable_goal_is_retargeted_to_demoted()
    {
        var g = new G().Node(1, DemoteTimeout, Draining, pgIsRunning: false).Node(2, StopReplication).Node(3, ReportLsn);
        Assert.Equal(("MAIN-SELF-FENCED", 1L, Demoted), G.Summary(g.Report(1, pgIsRunning: false)).Single());
    }

    [Fact]
    public void SELF_FENCED_RESUME_writer_that_fenced_itself_with_nobody_taking_over_restarts_as_primary()
    {
        var g = new G().Node(1, DemoteTimeout, WaitPrimary, pgIsRunning: false).Node(2, CatchingUp);
        g.Report(1, pgIsRunning: false).Assigns(("SELF-FENCED-RESUME", 1, Primary));
    }

    [Fact]
    public void ORPHAN_DEMOTED_old_primary_with_no_primary_left_joins_an_election()
    {
        var g = new G().Node(1, Demoted, pgIsRunning: false).Node(2, WaitStandby);
        g.Report(1, pgIsRunning: false).Assigns(("ORPHAN-DEMOTED", 1, ReportLsn));
    }

    [Fact]
    public void PROMOTION_ASSIGNED_draining_old_primary_waits_for_the_candidate_that_has_not_reported_yet()
    {
        // Switchover with N = 2: node 2 was told prepare_promotion and its keeper has not reported it yet. The
        // draining old primary is not an orphan (no ORPHAN-DEMOTED, no GSM-7 election): it waits.
        var g = new G().Node(1, Draining, pgIsRunning: false).Node(2, Secondary, PreparePromotion)
            .With(2, n => n with { LastReportAt = G.Now - TimeSpan.FromSeconds(6) }); // silent, but probes say up
        g.Report(1, pgIsRunning: false).AssignsNothing();
        g.Report(1, pgIsRunning: false).AssignsNothing();
        g.Report(2, PreparePromotion).Assigns(("GSM-23", 1, DemoteTimeout), ("GSM-23", 2, StopReplication));
    }

    [Fact]
    public void PROMOTION_ASSIGNED_candidate_that_is_gone_is_replaced_through_EL_1()
    {
        // The candidate died before it reported prepare_promotion: the old primary joins an election, and EL-1
        // sends the dead candidate back to report_lsn so it cannot resume a stale promotion.
        var g = new G().Node(1, Draining, pgIsRunning: false).Node(2, Secondary, PreparePromotion, dead: true);
        g.Report(1, pgIsRunning: false).Assigns(("ORPHAN-DEMOTED", 1, ReportLsn));
        var d = g.Report(1, ReportLsn);
        Assert.Equal(("EL-1", 2L, ReportLsn), G.Summary(d).First());
    }

    [Fact]
    public void REG_6_REDIRECT_init_node_waiting_for_a_report_lsn_source_that_is_gone()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Init, ReportLsn);
        g.Report(3).Assigns(("REG-6-REDIRECT", 3, WaitStandby));
    }

    [Fact]
    public void STALE_CANDIDATE_promotion_is_cancelled_when_the_primary_serves_again()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, PreparePromotion);
        g.Report(3).Assigns(("STALE-CANDIDATE", 3, ReportLsn));
    }

    [Fact]
    public void GSM_23_never_demotes_a_healthy_primary_with_a_writable_goal()
    {
        var g = new G().Node(1, Primary).Node(2, PreparePromotion);
        Assert.DoesNotContain(G.Summary(g.Report(2)), a => a.Node == 1);
    }

    [Fact]
    public void UNREACHABLE_GOAL_late_report_of_single_with_goal_primary_adopts_single()
    {
        var g = new G().Node(1, NodeState.Single, Primary).Node(2, WaitStandby);
        var d = g.Report(1);
        Assert.Equal(("UNREACHABLE-GOAL", 1L, NodeState.Single), G.Summary(d).First());
    }

    [Fact]
    public void UNREACHABLE_GOAL_standby_keeps_the_state_it_reports_and_a_writer_told_to_stop_is_demoted()
    {
        new G().Node(1, Primary).Node(2, ReportLsn, Maintenance).Node(3, Secondary).Report(2)
            .Assigns(("UNREACHABLE-GOAL", 2, ReportLsn));
        new G().Node(1, Primary, ReportLsn).Node(2, StopReplication).Report(1)
            .Assigns(("UNREACHABLE-GOAL", 1, Demoted));
    }

    [Fact]
    public void STOP_REPLICATION_ORPHAN_candidate_whose_old_primary_was_removed_takes_writes()
    {
        var g = new G().Node(2, StopReplication).Node(3, ReportLsn);
        g.Report(2).Assigns(("STOP-REPLICATION-ORPHAN", 2, WaitPrimary));
    }

    [Fact]
    public void EL_1_dead_elected_candidate_is_replaced_by_a_new_election()
    {
        var g = new G().Node(1, Primary, Draining, dead: true).Node(2, ReportLsn, PreparePromotion, dead: true, quorum: false)
            .Node(3, ReportLsn).Node(4, ReportLsn);
        var d = g.Report(3);
        Assert.Equal(("EL-1", 2L, ReportLsn), G.Summary(d).First());
        Assert.Contains(G.Summary(d), a => a.Rule == "EL-8");
    }

    [Fact]
    public void FAILOVER_ABANDONED_old_primary_keeps_its_role_when_nobody_is_promoted()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        g.State = g.State with { Failover = new Model.FailoverInProgress(Guid.NewGuid(), 1, "test", false, G.Now) };
        var d = g.Report(1);
        Assert.Contains(d.Events, e => e is Events.FailoverEnded { NewPrimaryId: 1 });
        Assert.Contains(d.Events, e => e is Events.LeaseGranted { NodeId: 1 });
    }

    [Fact]
    public void Otherwise_no_change()
    {
        new G().Node(1, Primary).Node(2, Secondary).Report(2).AssignsNothing();
    }

    [Fact]
    public void GSM_26_a_dead_old_primary_is_not_waited_for_beyond_its_lease()
    {
        // The old primary (goal demote_timeout) is unhealthy and silent; its lease ran out long ago.
        var g = new G().Node(1, Primary, DemoteTimeout, dead: true).Node(2, StopReplication)
            .With(1, n => n with { StateChangedAt = G.Now });
        var d = g.Report(2, StopReplication, at: G.Now + TimeSpan.FromMilliseconds(100));
        d.Assigns(("GSM-26", 1, Demoted), ("GSM-26", 2, WaitPrimary));
    }

    [Fact]
    public void GSM_26_a_healthy_old_primary_gets_its_demote_timeout_to_confirm()
    {
        var g = new G().Node(1, Primary, DemoteTimeout).Node(2, StopReplication)
            .With(1, n => n with { StateChangedAt = G.Now });
        g.Report(2, StopReplication, at: G.Now + TimeSpan.FromMilliseconds(100)).AssignsNothing();
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests.Rules;

/// <summary>docs/states.md#elections election steps EL-1..EL-8 and the refinements the property walks required.</summary>
public class ElectionRuleTests
{
    private static G FailedPrimaryWith(params (long Id, NodeState State, ulong Lsn)[] standbys)
    {
        var g = new G().Node(1, Primary, Draining, dead: true, lsn: 0x5000000);
        foreach (var (id, state, lsn) in standbys) g.Node(id, state, lsn: lsn);
        return g;
    }

    [Fact]
    public void EL_0_no_election_while_a_healthy_primary_holds_a_writable_goal()
    {
        var g = new G().Node(1, Primary, ApplySettings).Node(2, ReportLsn).Node(3, ReportLsn);
        g.Report(2).AssignsNothing();
    }

    [Fact]
    public void EL_1_non_elected_standby_joins_the_candidate_once_it_can_stream()
    {
        var g = FailedPrimaryWith((2, PreparePromotion, 0x5000000), (3, ReportLsn, 0x4000000))
            .With(2, n => n with { GoalState = StopReplication });
        g.Report(3).Assigns(("EL-1", 3, JoinSecondary));
    }

    [Fact]
    public void EL_1_not_before_the_candidate_is_ready_to_stream()
    {
        var g = FailedPrimaryWith((2, ReportLsn, 0x5000000), (3, ReportLsn, 0x4000000))
            .With(2, n => n with { GoalState = PreparePromotion });
        g.Report(3).AssignsNothing();
    }

    [Fact]
    public void EL_2_streaming_standbys_and_converged_draining_old_primary_go_report_lsn()
    {
        var g = new G().Node(1, Draining, pgIsRunning: false).Node(2, Secondary).Node(3, CatchingUp);
        var d = g.Report(2);
        Assert.Contains(("EL-2", 1L, ReportLsn), G.Summary(d));
        Assert.Contains(("EL-2", 2L, ReportLsn), G.Summary(d));
        Assert.Contains(("EL-2", 3L, ReportLsn), G.Summary(d));
    }

    [Fact]
    public void EL_3_waits_for_every_quorum_standby_to_report_its_lsn()
    {
        var g = FailedPrimaryWith((2, ReportLsn, 0x5000000), (3, Secondary, 0x4000000)).With(3, n => n with { GoalState = ReportLsn });
        var d = g.Report(2);
        d.AssignsNothing();
        Assert.Contains(d.Notices, n => n.Contains("waiting for 1 node(s)"));
    }

    [Fact]
    public void EL_3_a_stale_report_lsn_from_an_earlier_election_does_not_count()
    {
        // Node 3 is dead; it last reported report_lsn but was since told secondary: it may hold newer WAL.
        var g = FailedPrimaryWith((2, ReportLsn, 0x5000000), (3, ReportLsn, 0x4000000)).With(3, n => n with
        {
            GoalState = Secondary, LastReportAt = G.Now - TimeSpan.FromSeconds(10), Health = NodeHealth.Bad,
        });
        g.Report(2).AssignsNothing();
    }

    [Fact]
    public void EL_3_bypassed_when_guard_data_loss_is_off()
    {
        var g = new G(guardDataLoss: false).Node(1, Primary, Draining, dead: true).Node(2, ReportLsn).Node(3, Secondary, ReportLsn);
        g.Report(2).Assigns(("EL-8", 2, PreparePromotion));
    }

    [Fact]
    public void EL_4_no_candidate_no_decision()
    {
        var g = FailedPrimaryWith((2, Maintenance, 0x5000000), (3, Maintenance, 0x5000000));
        g.Report(2).AssignsNothing();
    }

    [Fact]
    public void EL_5_needs_number_sync_standbys_plus_one_quorum_candidates()
    {
        var g = new G(numberSyncStandbys: 1).Node(1, Primary, Draining, dead: true)
            .Node(2, ReportLsn).Node(3, ReportLsn, quorum: false).Node(4, CatchingUp, quorum: true, dead: true)
            .With(4, n => n with { ReportedState = ReportLsn, GoalState = ReportLsn, LastReportAt = G.Now });
        // Node 4 reported report_lsn: two quorum candidates (2 and 4) are enough.
        Assert.Equal(("EL-8", 2L, PreparePromotion), G.Summary(g.Report(2)).Single());
        var short1 = new G(numberSyncStandbys: 1).Node(1, Primary, Draining, dead: true)
            .Node(2, ReportLsn).Node(3, ReportLsn, quorum: false).Node(4, Secondary, quorum: true);
        short1.With(4, n => n with { ReportedState = Maintenance, GoalState = Maintenance });
        var d = short1.Report(2);
        d.AssignsNothing();
        Assert.Contains(d.Notices, n => n.Contains("quorum candidate"));
    }

    [Fact]
    public void EL_6_and_EL_8_most_advanced_candidate_prepares_promotion()
    {
        var g = FailedPrimaryWith((2, ReportLsn, 0x4000000), (3, ReportLsn, 0x5000000));
        g.Report(2).Assigns(("EL-8", 3, PreparePromotion));
    }

    [Fact]
    public void EL_7_higher_priority_wins_and_fast_forwards_from_the_most_advanced()
    {
        var g = FailedPrimaryWith((2, ReportLsn, 0x4000000), (3, ReportLsn, 0x5000000)).With(2, n => n with { CandidatePriority = 90 });
        g.Report(2).Assigns(("EL-8", 2, FastForward));
        var goal = MonitorCore.GoalFor(g.State, 2)!;
        Assert.Equal(3, goal.UpstreamNode!.NodeId);
        Assert.Equal(0x5000000UL, goal.TargetLsn);
    }

    [Fact]
    public void EL_7_refuses_when_the_best_standby_is_too_far_behind_the_primary()
    {
        var g = new G().Node(1, Primary, Draining, dead: true, lsn: 0x9000000).Node(2, ReportLsn, lsn: 0x1000000).Node(3, ReportLsn, lsn: 0x1000000);
        var d = g.Report(2);
        d.AssignsNothing();
        Assert.Contains(d.Notices, n => n.Contains("behind"));
    }

    [Fact]
    public void EL_7_refuses_a_lagging_candidate_when_no_most_advanced_node_is_healthy()
    {
        var g = FailedPrimaryWith((2, ReportLsn, 0x4000000), (3, ReportLsn, 0x5000000))
            .With(2, n => n with { CandidatePriority = 90 })
            .With(3, n => n with { PgIsRunning = false });
        g.Report(2).AssignsNothing();
    }

    [Fact]
    public void EL_7_priority_zero_is_never_elected()
    {
        var g = FailedPrimaryWith((2, ReportLsn, 0x5000000), (3, ReportLsn, 0x5000000))
            .With(2, n => n with { CandidatePriority = 0 }).With(3, n => n with { CandidatePriority = 0 });
        g.Report(2).AssignsNothing();
    }

    [Fact]
    public void EL_8_undoes_the_promotion_boost_and_the_failover_penalty()
    {
        var g = new G().Node(1, ReportLsn, priority: -51).Node(2, ReportLsn, priority: 151).Node(3, ReportLsn);
        var d = g.Report(3);
        Assert.Equal(("EL-8", 2L, PreparePromotion), G.Summary(d).Single());
        Assert.Equal(50, g[2].CandidatePriority);
        Assert.Equal(50, g[1].CandidatePriority);
    }

    [Fact]
    public void EL_8_FENCE_waits_until_the_old_primary_is_fenced()
    {
        var g = FailedPrimaryWith((2, ReportLsn, 0x5000000), (3, ReportLsn, 0x5000000))
            .With(1, n => n with { LeaseExpiresAt = G.Now + TimeSpan.FromSeconds(1) });
        var d = g.Report(2);
        d.AssignsNothing();
        Assert.Contains(d.Notices, n => n.Contains("may still accept writes"));
        g.Report(2, at: G.Now + TimeSpan.FromSeconds(2.1)).Assigns(("EL-8", 2, PreparePromotion));
    }

    [Fact]
    public void EL_2_a_reporting_old_primary_is_waited_for_until_it_converges()
    {
        var g = new G().Node(1, Primary, Demoted, pgIsRunning: false).Node(2, ReportLsn).Node(3, ReportLsn);
        g.Report(2).AssignsNothing();
    }

    [Fact]
    public void EL_2_an_unhealthy_reporting_old_primary_with_a_writable_goal_is_demoted_to_join()
    {
        var g = new G().Node(1, DemoteTimeout, Primary, pgIsRunning: false).Node(2, ReportLsn).Node(3, ReportLsn);
        var d = g.Report(2);
        Assert.Equal(("EL-2", 1L, Demoted), G.Summary(d).Single());
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>safety rule 3 (docs/architecture.md#safety-rules): the core decides when a lease is granted and refuses early promotions.</summary>
public class LeaseTests
{
    [Fact]
    public void A_report_from_a_writable_goal_earns_a_lease_in_the_reply()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var d = g.Report(1);
        var granted = Assert.Single(d.Events.OfType<Events.LeaseGranted>());
        Assert.Equal(G.Now + MonitorOptions.Default.PrimaryLease, granted.ExpiresAt);
        Assert.False(((Events.IGroupEvent)granted).LivenessOnly);
        var reply = MonitorCore.GoalFor(g.State, 1, d)!;
        Assert.Equal(new PrimaryLease(MonitorOptions.Default.PrimaryLease, granted.ReportSequence), reply.Lease);
        Assert.Equal("ANY 1 (pgautofailover_standby_2)", reply.SynchronousStandbyNames);
    }

    [Fact]
    public void Standbys_and_demoted_primaries_get_no_lease()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        Assert.Null(MonitorCore.GoalFor(g.State, 2, g.Report(2))!.Lease);
        var demoting = new G().Node(1, Primary, Draining).Node(2, PreparePromotion);
        Assert.Empty(demoting.Report(1).Events.OfType<Events.LeaseGranted>());
    }

    [Fact]
    public void The_old_primary_of_a_failover_gets_no_new_lease()
    {
        // #1168 path: the primary keeps goal wait_primary while a candidate is promoted.
        var g = new G().Node(1, WaitPrimary, dead: true).Node(2, Secondary);
        g.Report(2);
        Assert.NotNull(g.State.Failover);
        Assert.Empty(g.Report(1).Events.OfType<Events.LeaseGranted>());
    }

    [Fact]
    public void Fence_time_is_the_later_of_lease_and_last_streaming_plus_lease_plus_margin()
    {
        var o = MonitorOptions.Default;
        var g = new G().Node(1, Primary).Node(2, Secondary)
            .With(1, n => n with { LeaseExpiresAt = G.Now + TimeSpan.FromSeconds(1) })
            .With(2, n => n with { StreamingUntil = G.Now + TimeSpan.FromSeconds(0.5) });
        Assert.Equal(G.Now + TimeSpan.FromSeconds(0.5) + o.PrimaryLease + o.LeaseSafetyMargin, Lease.FencedAt(g.State, g[1], o, G.Now));
    }

    [Fact]
    public void A_silent_standby_that_was_streaming_keeps_the_old_primary_unfenced_quorum_or_not()
    {
        var o = MonitorOptions.Default;
        var g = new G().Node(1, Primary, dead: true).Node(2, Secondary, dead: true).Node(3, ReportLsn);
        Assert.Equal(DateTimeOffset.MaxValue, Lease.FencedAt(g.State, g[1], o, G.Now));
        // Out of the quorum now, but the old primary may not have heard (its synchronous_standby_names still lists
        // the standby), and its keeper counts any standby's replies: found by the property walks (seed 1988).
        g.With(2, n => n with { ReplicationQuorum = false });
        Assert.Equal(DateTimeOffset.MaxValue, Lease.FencedAt(g.State, g[1], o, G.Now));
        g.With(2, n => n with { ReportedStreaming = false }); // it said it stopped streaming: its window counts
        Assert.NotEqual(DateTimeOffset.MaxValue, Lease.FencedAt(g.State, g[1], o, G.Now));
    }

    [Fact]
    public void A_non_writable_report_after_the_last_lease_confirms_fencing()
    {
        var o = MonitorOptions.Default;
        var g = new G().Node(1, DemoteTimeout, pgIsRunning: false).With(1, n => n with { LeaseExpiresAt = G.Now + TimeSpan.FromSeconds(2), LeaseReportSequence = 0 });
        Assert.Null(Lease.FencedAt(g.State, g[1], o, G.Now));
        // ...but not when the lease answered that very report: the keeper may have become a writer since.
        g.With(1, n => n with { LeaseReportSequence = n.LastReportSequence });
        Assert.NotNull(Lease.FencedAt(g.State, g[1], o, G.Now));
    }

    [Fact]
    public void Writable_goal_is_never_assigned_while_another_node_may_write()
    {
        var g = new G().Node(1, Primary, DemoteTimeout, dead: true).Node(2, StopReplication)
            .With(1, n => n with { LeaseExpiresAt = G.Now + TimeSpan.FromSeconds(30) });
        var d = g.Report(2, at: G.Now + TimeSpan.FromSeconds(5));
        d.AssignsNothing();
        Assert.Contains(d.Notices, n => n.Contains("waits: the old primary may still accept writes until "));
    }

    [Fact]
    public void Rebuilt_state_assumes_every_lease_may_still_run()
    {
        var o = MonitorOptions.Default;
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var restarted = g.State.Restarted(G.Now, o);
        Assert.Equal(G.Now + o.PrimaryLease, restarted[1].LeaseExpiresAt);
        Assert.Equal(NodeHealth.Unknown, restarted[1].Health);
        Assert.Equal(G.Now, restarted.MonitorStartedAt);
    }

    [Fact]
    public void A_stop_of_streaming_is_stored_and_an_instance_taking_the_group_over_fences_from_it()
    {
        var o = MonitorOptions.Default;
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var t1 = G.Now + TimeSpan.FromSeconds(1);
        // Still streaming: liveness only. Its receiver disconnected: durable, so the store knows when it stopped.
        Assert.True(Assert.Single(g.Report(2, Secondary, rep: "streaming", at: t1).Events.OfType<Events.NodeReported>()).LivenessOnly);
        var stop = t1 + TimeSpan.FromSeconds(0.5);
        var stopped = Assert.Single(g.Report(2, Secondary, rep: States.StandbyNotStreaming, at: stop).Events.OfType<Events.NodeReported>());
        Assert.True(stopped.StreamingChanged);
        Assert.False(stopped.LivenessOnly);
        var again = Assert.Single(g.Report(2, Secondary, rep: "streaming", at: stop + TimeSpan.FromSeconds(0.5)).Events.OfType<Events.NodeReported>());
        Assert.True(again.StreamingChanged);

        // The primary's lease, stored, and a standby stored as not streaming since `stop`: an instance that takes the
        // group over a second later fences the primary from what is stored, not from its own arrival.
        var takeover = stop + TimeSpan.FromSeconds(1);
        var lease = stop - TimeSpan.FromSeconds(0.2);
        var stored = new G().Node(1, Primary).Node(2, Secondary)
            .With(1, n => n with { LeaseExpiresAt = lease })
            .With(2, n => n with { ReportedStreaming = false, StreamingUntil = stop });
        var reloaded = stored.State.ReloadedWhileRunning(takeover, o, G.Now);
        Assert.Equal(stop + o.PrimaryLease + o.LeaseSafetyMargin, Lease.FencedAt(reloaded, reloaded[1], o, takeover));
        // A standby stored as streaming may have streamed until the takeover, unstored: one lease more is assumed.
        var streaming = new G().Node(1, Primary).Node(2, Secondary).With(1, n => n with { LeaseExpiresAt = lease });
        var assumed = streaming.State.ReloadedWhileRunning(takeover, o, G.Now);
        Assert.Equal(takeover + o.PrimaryLease, assumed[2].StreamingUntil);
    }

    [Fact]
    public void Options_keep_the_lease_shorter_than_detection_plus_margin()
    {
        var o = MonitorOptions.Default;
        Assert.Equal(TimeSpan.FromSeconds(1.5), o.PrimaryLease);
        Assert.Equal(TimeSpan.FromSeconds(0.5), o.LeaseSafetyMargin);
        // A crashed primary's lease is over by the time its silence is noticed, so only the margin and the
        // candidate's own streaming bound the wait.
        Assert.True(o.PrimaryLease <= o.KeeperSilenceTimeout);
        // No gap between the end of a silent standby's streaming window and the moment its silence blocks the
        // promotion (found by the property walks when the lease went to 1.5 s with a 3 s silence timeout).
        Assert.True(o.KeeperSilenceTimeout <= o.PrimaryLease + o.LeaseSafetyMargin);
    }

    [Fact]
    public void A_standby_stops_counting_as_streaming_at_its_first_report_that_its_receiver_is_disconnected()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var t1 = G.Now + TimeSpan.FromSeconds(1);
        g.Report(2, Secondary, rep: "streaming", at: t1);
        Assert.Equal(t1, g[2].StreamingUntil);

        var t2 = t1 + TimeSpan.FromSeconds(1);
        g.Report(2, Secondary, rep: States.StandbyNotStreaming, at: t2);
        Assert.Equal(t2, g[2].StreamingUntil); // it may have replied until this very report
        Assert.False(g[2].ReportedStreaming);

        g.Report(2, Secondary, rep: States.StandbyNotStreaming, at: t2 + TimeSpan.FromSeconds(1));
        Assert.Equal(t2, g[2].StreamingUntil); // later reports of a disconnected receiver do not extend it
    }

    [Fact]
    public void A_silent_quorum_standby_that_said_it_was_disconnected_does_not_keep_the_old_primary_unfenced()
    {
        var o = MonitorOptions.Default;
        var g = new G().Node(1, Primary, dead: true).Node(2, Secondary, dead: true).Node(3, ReportLsn);
        g.With(2, n => n with { ReportedStreaming = false });
        Assert.NotEqual(DateTimeOffset.MaxValue, Lease.FencedAt(g.State, g[1], o, G.Now));
    }
}

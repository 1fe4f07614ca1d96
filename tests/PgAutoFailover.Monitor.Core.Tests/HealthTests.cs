using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>docs/states.md#health: health from probes and keeper reports, with our timing defaults.</summary>
public class HealthTests
{
    [Fact]
    public void Three_failed_probes_mark_a_node_bad_and_one_success_good()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        g.Do(new ProbeTrigger(2, false, "refused"));
        g.Do(new ProbeTrigger(2, false, "refused"));
        Assert.Equal(NodeHealth.Good, g[2].Health);
        var d = g.Do(new ProbeTrigger(2, false, "refused"));
        Assert.Equal(NodeHealth.Bad, g[2].Health);
        Assert.Contains(d.Events, e => e is Events.NodeHealthMarked { Health: NodeHealth.Bad });
        Assert.All(d.Events.OfType<Events.ProbeRecorded>(), e => Assert.True(((Events.IGroupEvent)e).LivenessOnly));
        g.Do(new ProbeTrigger(2, true));
        Assert.Equal(NodeHealth.Good, g[2].Health);
    }

    [Fact]
    public void The_checkers_count_marks_a_node_bad_where_this_monitor_saw_only_one_of_its_failures()
    {
        // Three monitors share the probe queue: this one receives the checker's third failure in a row as its first.
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var d = g.Do(new ProbeTrigger(2, false, "refused", CheckerConsecutiveFailures: 3));
        Assert.Equal(NodeHealth.Bad, g[2].Health);
        Assert.Contains(d.Events, e => e is Events.NodeHealthMarked { Health: NodeHealth.Bad });
        // Its own count still counts where the checker's is lower (an older checker, or two checkers).
        var h = new G().Node(1, Primary).Node(2, Secondary);
        h.Do(new ProbeTrigger(2, false, "refused", CheckerConsecutiveFailures: 1));
        h.Do(new ProbeTrigger(2, false, "refused", CheckerConsecutiveFailures: 1));
        Assert.Equal(NodeHealth.Good, h[2].Health);
        h.Do(new ProbeTrigger(2, false, "refused", CheckerConsecutiveFailures: 1));
        Assert.Equal(NodeHealth.Bad, h[2].Health);
    }

    [Fact]
    public void Probes_never_run_the_state_machine()
    {
        var g = new G().Node(1, Primary, dead: true).Node(2, Secondary);
        Assert.Empty(g.Do(new ProbeTrigger(1, false, "timeout")).Assignments);
    }

    [Fact]
    public void Unhealthy_needs_both_bad_probes_and_keeper_silence()
    {
        var o = MonitorOptions.Default;
        var g = new G().Node(1, Secondary, dead: true);
        Assert.True(HealthPredicates.IsUnhealthy(g[1], g.State, o, G.Now));
        g.With(1, n => n with { LastReportAt = G.Now - o.KeeperSilenceTimeout + TimeSpan.FromMilliseconds(100) });
        Assert.False(HealthPredicates.IsUnhealthy(g[1], g.State, o, G.Now)); // still reporting
        g.With(1, n => n with { LastReportAt = G.Now - o.KeeperSilenceTimeout });
        Assert.True(HealthPredicates.IsUnhealthy(g[1], g.State, o, G.Now)); // strict: exactly the timeout is silent
    }

    [Fact]
    public void A_writer_that_missed_a_whole_lease_of_renewals_is_silent_sooner()
    {
        var o = MonitorOptions.Default;
        Assert.True(o.PrimaryLease < o.KeeperSilenceTimeout);
        var g = new G().Node(1, Primary, dead: true);
        g.With(1, n => n with { LastReportAt = G.Now - o.PrimaryLease + TimeSpan.FromMilliseconds(100) });
        Assert.False(HealthPredicates.IsUnhealthy(g[1], g.State, o, G.Now)); // renewed within the lease
        g.With(1, n => n with { LastReportAt = G.Now - o.PrimaryLease });
        Assert.True(HealthPredicates.IsUnhealthy(g[1], g.State, o, G.Now)); // a whole lease without a renewal
        g.With(1, n => n with { ReportedState = DemoteTimeout });
        Assert.False(HealthPredicates.IsUnhealthy(g[1], g.State, o, G.Now)); // not a writer: the usual timeout
    }

    [Fact]
    public void Keeper_reporting_postgres_down_is_unhealthy_at_once()
    {
        var g = new G().Node(1, Primary, pgIsRunning: false);
        Assert.True(HealthPredicates.IsUnhealthy(g[1], g.State, MonitorOptions.Default, G.Now));
    }

    [Fact]
    public void No_node_is_unhealthy_from_probes_during_the_startup_grace_period()
    {
        var g = new G().Node(1, Primary, dead: true);
        var restarted = g.State.Restarted(G.Now, MonitorOptions.Default);
        var probed = restarted with { AllNodes = restarted.AllNodes.SetItem(1, restarted[1] with { Health = NodeHealth.Bad, HealthCheckAt = G.Now + TimeSpan.FromSeconds(1) }) };
        Assert.False(HealthPredicates.IsUnhealthy(probed[1], probed, MonitorOptions.Default, G.Now + TimeSpan.FromSeconds(4)));
        Assert.True(HealthPredicates.IsUnhealthy(probed[1], probed, MonitorOptions.Default, G.Now + TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void A_reload_by_a_running_instance_keeps_its_start_and_the_stored_health_verdicts()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary, dead: true).With(2, n => n with { Health = NodeHealth.Bad, HealthCheckAt = G.Now });
        var started = G.Now - TimeSpan.FromMinutes(1);
        var reloaded = g.State.ReloadedWhileRunning(G.Now, MonitorOptions.Default, started);
        Assert.Equal(started, reloaded.MonitorStartedAt);
        // What another instance marked stays marked: a reload must not flip a verdict back and forth.
        Assert.Equal(g[1].Health, reloaded[1].Health);
        Assert.Equal(NodeHealth.Bad, reloaded[2].Health);
        Assert.True(HealthPredicates.IsUnhealthy(reloaded[2], reloaded, MonitorOptions.Default, G.Now + TimeSpan.FromSeconds(1)));
        // Every lease was stored before it was granted: the stored one stands.
        Assert.Equal(g[1].LeaseExpiresAt, reloaded[1].LeaseExpiresAt);
    }

    [Fact]
    public void A_restarted_monitor_forgets_the_stored_health_verdicts()
    {
        var g = new G().Node(1, Primary).With(1, n => n with { Health = NodeHealth.Bad, HealthCheckAt = G.Now - TimeSpan.FromMinutes(5) });
        var restarted = g.State.Restarted(G.Now, MonitorOptions.Default);
        Assert.Equal(NodeHealth.Unknown, restarted[1].Health);
        Assert.Equal(G.Now, restarted.MonitorStartedAt);
    }

    [Fact]
    public void Fresh_keeper_report_after_a_bad_probe_counts_as_healthy_MAIN_1141()
    {
        var o = MonitorOptions.Default;
        var g = new G().Node(1, Primary).With(1, n => n with
        {
            Health = NodeHealth.Bad, HealthCheckAt = G.Now - TimeSpan.FromSeconds(2), LastReportAt = G.Now - TimeSpan.FromMilliseconds(500),
        });
        Assert.True(HealthPredicates.IsHealthy(g[1], o, G.Now));
        Assert.False(HealthPredicates.IsHealthy(g[1], o, G.Now + TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Unknown_health_trusts_a_reporting_keeper()
    {
        var g = new G().Node(1, Primary).With(1, n => n with { Health = NodeHealth.Unknown, HealthCheckAt = null });
        Assert.True(HealthPredicates.IsHealthy(g[1], MonitorOptions.Default, G.Now));
    }

    [Fact]
    public void Defaults_detect_a_dead_primary_within_two_seconds()
    {
        var o = MonitorOptions.Default;
        Assert.Equal(TimeSpan.FromSeconds(1), o.ProbePeriod);
        Assert.Equal(3, o.ProbeFailuresBeforeUnhealthy);
        Assert.Equal(TimeSpan.FromSeconds(2), o.KeeperSilenceTimeout);
        Assert.True(o.PrimaryLease < TimeSpan.FromSeconds(2)); // a dead writer is silent after one lease
        Assert.True(o.ProbeTimeout < o.ProbePeriod);
        Assert.True(o.PrimaryLease > o.FreshReportWindow); // one lost report does not fence a primary
    }
}

using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests.Rules;

/// <summary>API-SET-AUTOMATIC-FAILOVER: a paused group starts no failover by itself; operators' commands still work.</summary>
public sealed class AutomaticFailoverTests
{
    private static G Paused(G g)
    {
        Assert.True(g.Do(new SetAutomaticFailoverCommand(Enabled: false)).Accepted);
        Assert.False(g.State.Settings.AutomaticFailover);
        return g;
    }

    [Fact]
    public void API_SET_AUTOMATIC_FAILOVER_paused_a_dead_primary_is_not_failed_over_and_the_block_is_said_until_resumed()
    {
        var g = Paused(new G().Node(1, Primary, dead: true).Node(2, Secondary));
        g.Report(2).AssignsNothing();
        Assert.Contains("automatic failover is disabled for formation default", g.State.FailoverBlockedReason);
        g.Do(new TimerTrigger()).AssignsNothing();

        var resumed = g.Do(new SetAutomaticFailoverCommand(Enabled: true));
        Assert.Contains(resumed.Events, e => e is AutomaticFailoverChanged { Enabled: true });
        Assert.Contains(resumed.Events, e => e is FailoverBlockedChanged { Reason: null });
        Assert.NotNull(resumed.WakeAt); // decided again at once
        g.Report(2).Assigns(("GSM-17", 1, Draining), ("GSM-17", 2, PreparePromotion));
    }

    [Fact]
    public void Paused_three_nodes_start_no_election()
    {
        var g = Paused(new G().Node(1, Primary, dead: true).Node(2, Secondary).Node(3, Secondary));
        g.Report(2).AssignsNothing();
        g.Report(3).AssignsNothing();
        Assert.Null(g.State.Failover);
    }

    [Fact]
    public void Paused_a_switchover_and_maintenance_still_work()
    {
        var g = Paused(new G().Node(1, Primary).Node(2, Secondary));
        g.Do(new FailoverCommand(Switchover: true)).Assigns(("API-FAILOVER", 1, Draining), ("API-FAILOVER", 2, PreparePromotion));

        var m = Paused(new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary));
        Assert.True(m.Do(new EnableMaintenanceCommand(3)).Accepted);
    }

    [Fact]
    public void A_failover_under_way_when_paused_finishes()
    {
        var g = new G().Node(1, Primary, dead: true).Node(2, Secondary);
        g.Report(2).Assigns(("GSM-17", 1, Draining), ("GSM-17", 2, PreparePromotion));
        var pause = g.Do(new SetAutomaticFailoverCommand(Enabled: false));
        Assert.Contains(pause.Notices, n => n.Contains("the failover under way finishes"));
        var next = g.Report(2, PreparePromotion);
        Assert.Contains(G.Summary(next), a => a.Node == 2 && a.Goal == StopReplication);
    }

    [Fact]
    public void Setting_what_is_already_set_changes_nothing()
    {
        var d = new G().Node(1, Primary).Node(2, Secondary).Do(new SetAutomaticFailoverCommand(Enabled: true));
        Assert.True(d.Accepted);
        Assert.Empty(d.Events);
        Assert.Contains(d.Notices, n => n.Contains("already enabled"));
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests;

public class ContractEventsTests
{
    [Fact]
    public void Failover_decision_publishes_started_goal_changes_and_primary_changed()
    {
        var g = new G().Node(1, Primary, dead: true).Node(2, Secondary);
        var before = g.State;
        var d = g.Report(2);
        var published = ContractEvents.For(before, d, versionBeforeDecision: 10);
        Assert.Contains(published, p => p is FailoverStarted { Planned: false, OldPrimary.NodeId: 1 });
        Assert.Equal(2, published.OfType<GoalStateAssigned>().Count());
        Assert.Contains(published, p => p is PrimaryChanged { PreviousPrimary.NodeId: 1, NewPrimary: null });
        Assert.All(published.OfType<GoalStateAssigned>(), p => Assert.True(p.GroupVersion > 10));
    }

    [Fact]
    public void Promotion_completes_the_failover_and_names_the_new_primary()
    {
        var g = new G().Node(1, DemoteTimeout, pgIsRunning: false).Node(2, StopReplication);
        g.State = g.State with { Failover = new Model.FailoverInProgress(Guid.NewGuid(), 1, "test", false, G.Now - TimeSpan.FromSeconds(4)) };
        var before = g.State;
        var published = ContractEvents.For(before, g.Report(2), 0);
        var completed = Assert.Single(published.OfType<FailoverCompleted>());
        Assert.Equal(2, completed.NewPrimary.NodeId);
        Assert.Equal(TimeSpan.FromSeconds(4), completed.Duration);
        Assert.Contains(published, p => p is PrimaryChanged { NewPrimary.NodeId: 2 });
    }

    [Fact]
    public void Reported_state_change_and_health_flip_are_published()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var before = g.State;
        Assert.Contains(ContractEvents.For(before, g.Report(2, CatchingUp), 0), p => p is NodeStateChanged { PreviousState: Secondary, ReportedState: CatchingUp });
        before = g.State;
        g.Do(new ProbeTrigger(2, false, "x")); g.Do(new ProbeTrigger(2, false, "x"));
        before = g.State;
        Assert.Contains(ContractEvents.For(before, g.Do(new ProbeTrigger(2, false, "refused")), 0),
            p => p is NodeHealthChanged { Health: NodeHealth.Bad, PreviousHealth: NodeHealth.Good });
    }
}

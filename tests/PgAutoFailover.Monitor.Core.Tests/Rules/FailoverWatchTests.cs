using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests.Rules;

/// <summary>Issue 13 defect 7: a dead primary whose only standby cannot be promoted is said, once, with the reason.</summary>
public class FailoverWatchTests
{
    [Fact]
    public void FAILOVER_BLOCKED_is_said_once_when_every_standby_has_priority_0_and_cleared_when_one_can_be_promoted()
    {
        var g = new G().Node(1, Primary, dead: true).Node(2, Secondary, priority: 0);

        var first = g.Report(2);
        first.AssignsNothing();
        var blocked = Assert.Single(first.Events.OfType<FailoverBlockedChanged>());
        Assert.Contains("no failover will happen: every standby has candidate priority 0 (node 2", blocked.Reason);
        var published = Assert.Single(ContractEvents.For(g.State, first, 10).OfType<FailoverBlocked>());
        Assert.Equal(1, published.Primary!.NodeId);

        Assert.Empty(g.Report(2).Events.OfType<FailoverBlockedChanged>()); // not repeated while it lasts
        Assert.Empty(g.Do(new TimerTrigger()).Events.OfType<FailoverBlockedChanged>());

        var fixedByOperator = g.Do(new SetCandidatePriorityCommand(2, 50));
        Assert.Null(Assert.Single(fixedByOperator.Events.OfType<FailoverBlockedChanged>()).Reason);
        Assert.Equal("Operator set the candidate priority of node 2 \"node_2\" (localhost:5402) from 0 to 50",
            Assert.Single(fixedByOperator.Events.OfType<CandidatePriorityChanged>()).Reason);
        g.Report(2).Assigns(("GSM-17", 1, Draining), ("GSM-17", 2, PreparePromotion));
    }

    [Fact]
    public void FAILOVER_BLOCKED_not_while_the_primary_is_healthy_or_a_candidate_exists()
    {
        Assert.Empty(new G().Node(1, Primary).Node(2, Secondary, priority: 0).Report(2).Events.OfType<FailoverBlockedChanged>());
        Assert.Empty(new G().Node(1, Primary, dead: true).Node(2, Secondary, priority: 0).Node(3, Secondary)
            .Report(2).Events.OfType<FailoverBlockedChanged>());
    }
}

using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>NodeGoal.GroupNodeIds and GroupHosts: the group's current nodes, for the primary to drop slots of removed ones and pg_hba.</summary>
public class GroupNodeIdsTests
{
    [Fact]
    public void GoalFor_lists_the_current_nodes_and_not_the_removed_ones()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary).Node(4, Secondary, Dropped);
        Assert.Equal([1L, 2L, 3L], MonitorCore.GoalFor(g.State, 1, g.Report(1))!.GroupNodeIds);
        Assert.Equal([1L, 2L, 3L], MonitorCore.GoalFor(g.State, 2)!.GroupNodeIds);
        Assert.Equal([1L, 2L, 3L], MonitorCore.GoalFor(g.State, 4)!.GroupNodeIds); // being dropped: not a member

        g.Report(4, Dropped, pgIsRunning: false); // removed from the group
        Assert.Null(g.State.Find(4));
        Assert.Equal([1L, 2L, 3L], MonitorCore.GoalFor(g.State, 1, g.Report(1))!.GroupNodeIds);
        Assert.Null(MonitorCore.GoalFor(g.State, 4));
    }

    [Fact]
    public void GoalFor_lists_the_hosts_of_the_current_nodes_once_each()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary).Node(4, Secondary, Dropped)
            .With(2, n => n with { Host = "10.0.0.2" }).With(3, n => n with { Host = "10.0.0.2" }).With(4, n => n with { Host = "10.0.0.4" });
        Assert.Equal(["10.0.0.2", "localhost"], MonitorCore.GoalFor(g.State, 1, g.Report(1))!.GroupHosts);
        Assert.Equal(["10.0.0.2", "localhost"], MonitorCore.GoalFor(g.State, 4)!.GroupHosts); // being dropped: its host is not admitted
    }
}

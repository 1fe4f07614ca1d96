using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

public sealed class WaiterTests
{
    private static FormationState State(params NodeSnapshot[] nodes) => new("f", "postgres", 1, nodes);

    private static NodeSnapshot N(long id, NodeState reported, NodeState goal, int group = 0) =>
        FakeMonitor.Snapshot(id, $"node{id}", 5500 + (int)id, reported, goal, group: group);

    [Fact]
    public void A_new_primary_is_another_converged_writer_of_the_group()
    {
        var done = Cli.Waiter.NewPrimary(0, primaryBefore: 1);
        Assert.False(done(State(N(1, NodeState.Primary, NodeState.Primary), N(2, NodeState.Secondary, NodeState.Secondary))));
        Assert.False(done(State(N(1, NodeState.Draining, NodeState.Demoted), N(2, NodeState.StopReplication, NodeState.WaitPrimary))));
        Assert.True(done(State(N(1, NodeState.Demoted, NodeState.Demoted), N(2, NodeState.WaitPrimary, NodeState.WaitPrimary))));
        Assert.False(done(State(N(3, NodeState.Primary, NodeState.Primary, group: 1))));
        Assert.True(Cli.Waiter.NewPrimary(0, null)(State(N(1, NodeState.Single, NodeState.Single))));
    }

    [Fact]
    public void Promotion_is_done_when_the_named_node_writes()
    {
        var byName = Cli.Waiter.Promoted(null, "node2");
        var byId = Cli.Waiter.Promoted(2, null);
        var before = State(N(1, NodeState.Primary, NodeState.Primary), N(2, NodeState.Secondary, NodeState.Secondary));
        var after = State(N(1, NodeState.Secondary, NodeState.Secondary), N(2, NodeState.Primary, NodeState.Primary));
        Assert.False(byName(before));
        Assert.False(byId(before));
        Assert.True(byName(after));
        Assert.True(byId(after));
    }

    [Fact]
    public void Maintenance_is_done_when_reported_and_assigned()
    {
        Assert.False(Cli.Waiter.InMaintenance(2)(State(N(2, NodeState.WaitMaintenance, NodeState.Maintenance))));
        Assert.True(Cli.Waiter.InMaintenance(2)(State(N(2, NodeState.Maintenance, NodeState.Maintenance))));
        Assert.False(Cli.Waiter.BackFromMaintenance(2)(State(N(2, NodeState.CatchingUp, NodeState.Secondary))));
        Assert.True(Cli.Waiter.BackFromMaintenance(2)(State(N(2, NodeState.Secondary, NodeState.Secondary))));
    }

    [Fact]
    public void A_change_line_lines_up_with_the_header()
    {
        var header = Formatting.TextTable.Render(Cli.Waiter.Columns, []).Split('\n')[0];
        var line = Cli.Waiter.Line(new DateTimeOffset(2026, 11, 25, 21, 30, 5, TimeSpan.Zero), N(2, NodeState.Secondary, NodeState.PreparePromotion)).TrimEnd('\n');
        Assert.Equal(header.Length, line.Length);
        Assert.Equal("21:30:05 |      node2 |     2 |        localhost:5502 |           secondary |   prepare_promotion", line);
    }
}

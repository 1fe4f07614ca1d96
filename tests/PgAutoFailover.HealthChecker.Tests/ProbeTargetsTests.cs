using Microsoft.Extensions.Options;
using PgAutoFailover.Contracts;
using PgAutoFailover.HealthChecker.Probing;

namespace PgAutoFailover.HealthChecker.Tests;

public sealed class ProbeTargetsTests
{
    private static NodeSnapshot Node(long id, NodeState goal = NodeState.Secondary) =>
        new(new NodeAddress("f", 0, id, $"node_{id}", "127.0.0.1", 5500 + (int)id), goal, goal, NodeHealth.Good, 1, 0, 50, true, true, null);

    private static FormationTopologyChanged Snapshot(long version, params NodeSnapshot[] nodes) => new("f", "db", version, nodes, DateTimeOffset.UtcNow);

    [Fact]
    public async Task Snapshots_replace_a_formations_nodes_and_signal_the_change()
    {
        var targets = new ProbeTargets(Options.Create(new HealthCheckerOptions()));
        var changed = targets.WhenChanged;
        Assert.True(targets.Apply(Snapshot(1, Node(1, NodeState.Primary), Node(2))));
        await changed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([1L, 2L], targets.Current.Keys.Order());

        Assert.True(targets.Apply(Snapshot(2, Node(1, NodeState.Primary), Node(2, NodeState.Dropped), Node(3))));
        Assert.Equal([1L, 3L], targets.Current.Keys.Order());
    }

    [Fact]
    public void Older_or_repeated_snapshots_are_ignored()
    {
        var targets = new ProbeTargets(Options.Create(new HealthCheckerOptions()));
        targets.Apply(Snapshot(5, Node(1), Node(2)));
        Assert.False(targets.Apply(Snapshot(4, Node(9))));
        Assert.False(targets.Apply(Snapshot(5, Node(9))));
        Assert.Equal([1L, 2L], targets.Current.Keys.Order());
    }

    [Fact]
    public void Static_nodes_are_probed_alongside_the_topology()
    {
        var targets = new ProbeTargets(Options.Create(new HealthCheckerOptions { StaticNodes = [new NodeAddress("s", 0, 100, "n", "10.0.0.1", 5432)] }));
        targets.Apply(Snapshot(1, Node(1)));
        Assert.Equal([1L, 100L], targets.Current.Keys.Order());
        Assert.True(targets.TryGet(100, out var node));
        Assert.Equal("10.0.0.1", node.Host);
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.UriService.Topology;
using static PgAutoFailover.UriService.Tests.Snapshots;

namespace PgAutoFailover.UriService.Tests;

public sealed class TopologyViewTests
{
    [Fact]
    public void An_older_snapshot_never_replaces_a_newer_one()
    {
        var view = new TopologyView();
        Assert.Equal(ApplyOutcome.Applied, view.Apply(Formation("f", 5, Node(1, NodeState.Primary))));
        Assert.Equal(ApplyOutcome.Stale, view.Apply(Formation("f", 4, Node(1, NodeState.Secondary))));
        Assert.Equal(ApplyOutcome.Duplicate, view.Apply(Formation("f", 5, Node(1, NodeState.Secondary))));
        Assert.Equal(NodeState.Primary, view.Get("f")!.Nodes[0].ReportedState);
        Assert.Equal(ApplyOutcome.Applied, view.Apply(Formation("f", 6, Node(1, NodeState.Draining))));
        Assert.Equal(NodeState.Draining, view.FindNode(1)!.Value.Node.ReportedState);
    }

    [Fact]
    public void Watchers_receive_applied_snapshots_of_their_formation_only()
    {
        var view = new TopologyView();
        using var watch = view.Watch("f");
        view.Apply(Formation("other", 1, Node(9, NodeState.Single)));
        view.Apply(Formation("f", 2, Node(1, NodeState.Single)));
        view.Apply(Formation("f", 1, Node(1, NodeState.Single)));
        Assert.True(watch.Reader.TryRead(out var first));
        Assert.Equal(("f", 2L), (first.Formation, first.Version));
        Assert.False(watch.Reader.TryRead(out _));
    }

    [Fact]
    public void A_primary_change_fences_the_old_writer_until_the_next_snapshot()
    {
        var view = new TopologyView();
        var primary = Node(1, NodeState.Primary);
        view.Apply(Formation("f", 3, primary, Node(2, NodeState.Secondary)));
        view.ApplyPrimaryChanged(new PrimaryChanged("f", 0, primary.Node with { Formation = "f" }, null, 10, DateTimeOffset.UtcNow));
        Assert.True(view.IsFencedByPrimaryChange(1));
        // An older group event arriving late changes nothing.
        view.ApplyPrimaryChanged(new PrimaryChanged("f", 0, Node(2, NodeState.Primary).Node, primary.Node, 9, DateTimeOffset.UtcNow));
        Assert.False(view.IsFencedByPrimaryChange(2));
        view.Apply(Formation("f", 4, Node(1, NodeState.Primary, NodeState.Draining), Node(2, NodeState.Secondary)));
        Assert.False(view.IsFencedByPrimaryChange(1));
    }

    [Fact]
    public void The_tracker_announces_uri_and_primary_changes_but_not_topology_noise()
    {
        var tracker = new ConnectionStringTracker(UriParameters.None);
        var now = DateTimeOffset.UtcNow;
        var first = tracker.Due(Formation("f", 1, Node(1, NodeState.Primary), Node(2, NodeState.Secondary)), now);
        Assert.NotNull(first);
        Assert.Equal(1, first.Primary?.NodeId);
        // Not committed (publish failed): still due.
        Assert.NotNull(tracker.Due(Formation("f", 1, Node(1, NodeState.Primary), Node(2, NodeState.Secondary)), now));
        tracker.Commit(first);
        Assert.Null(tracker.Due(Formation("f", 2, Node(1, NodeState.Primary, lsn: 99), Node(2, NodeState.CatchingUp, NodeState.Secondary, NodeHealth.Bad)), now));
        var failover = tracker.Due(Formation("f", 3, Node(1, NodeState.Draining, NodeState.DemoteTimeout), Node(2, NodeState.StopReplication)), now);
        Assert.NotNull(failover);
        Assert.Null(failover.Primary);
        Assert.Equal(3, failover.TopologyVersion);
    }
}

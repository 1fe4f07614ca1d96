using PgAutoFailover.Contracts;
using PgAutoFailover.UriService.Topology;
using static PgAutoFailover.UriService.Tests.Snapshots;

namespace PgAutoFailover.UriService.Tests;

public sealed class NodeRolesTests
{
    public static TheoryData<NodeState> WritableStates =>
        [NodeState.Single, NodeState.WaitPrimary, NodeState.Primary, NodeState.JoinPrimary, NodeState.ApplySettings];

    [Fact]
    public void Exactly_the_five_spec_states_can_take_writes()
    {
        var writable = Enum.GetValues<NodeState>().Where(NodeRoles.CanTakeWrites).ToHashSet();
        Assert.Equal([NodeState.Single, NodeState.WaitPrimary, NodeState.Primary, NodeState.JoinPrimary, NodeState.ApplySettings],
            writable.OrderBy(s => s));
    }

    [Theory]
    [MemberData(nameof(WritableStates))]
    public void A_node_whose_reported_and_goal_states_are_writable_is_the_writer(NodeState state)
    {
        var nodes = new[] { Node(1, state), Node(2, NodeState.Secondary) };
        Assert.Equal(1, NodeRoles.Writer(nodes, 0)?.Node.NodeId);
        Assert.Equal(NodeRole.Primary, NodeRoles.RoleOf(nodes[0], nodes));
    }

    [Theory]
    [InlineData(NodeState.Primary, NodeState.Draining)]
    [InlineData(NodeState.Primary, NodeState.DemoteTimeout)]
    [InlineData(NodeState.Primary, NodeState.PrepareMaintenance)]
    [InlineData(NodeState.StopReplication, NodeState.StopReplication)]
    [InlineData(NodeState.StopReplication, NodeState.WaitPrimary)]
    [InlineData(NodeState.Draining, NodeState.Draining)]
    [InlineData(NodeState.Secondary, NodeState.PreparePromotion)]
    [InlineData(NodeState.Demoted, NodeState.Demoted)]
    public void A_node_being_demoted_or_not_yet_promoted_is_not_the_writer(NodeState reported, NodeState goal)
    {
        var nodes = new[] { Node(1, reported, goal) };
        Assert.Null(NodeRoles.Writer(nodes, 0));
        Assert.NotEqual(NodeRole.Primary, NodeRoles.RoleOf(nodes[0], nodes));
    }

    [Fact]
    public void Two_writable_nodes_in_one_group_name_no_writer()
    {
        var nodes = new[] { Node(1, NodeState.Primary), Node(2, NodeState.WaitPrimary) };
        Assert.Null(NodeRoles.Writer(nodes, 0));
        Assert.False(NodeRoles.PassesPrimaryCheck(nodes[0], nodes));
        Assert.False(NodeRoles.PassesPrimaryCheck(nodes[1], nodes));
    }

    [Fact]
    public void Writers_are_per_group_and_dropped_nodes_are_ignored()
    {
        var nodes = new[] { Node(1, NodeState.Primary), Node(2, NodeState.Primary, group: 1), Node(3, NodeState.Single, NodeState.Dropped) };
        Assert.Equal(1, NodeRoles.Writer(nodes, 0)?.Node.NodeId);
        Assert.Equal(2, NodeRoles.Writer(nodes, 1)?.Node.NodeId);
        Assert.Equal(NodeRole.Dropped, NodeRoles.RoleOf(nodes[2], nodes));
    }

    [Fact]
    public void Primary_check_needs_health_not_bad_and_postgres_running()
    {
        var healthy = new[] { Node(1, NodeState.Primary, health: NodeHealth.Unknown) };
        var bad = new[] { Node(1, NodeState.Primary, health: NodeHealth.Bad) };
        var stopped = new[] { Node(1, NodeState.Primary, pgIsRunning: false) };
        Assert.True(NodeRoles.PassesPrimaryCheck(healthy[0], healthy));
        Assert.False(NodeRoles.PassesPrimaryCheck(bad[0], bad));
        Assert.False(NodeRoles.PassesPrimaryCheck(stopped[0], stopped));
    }

    [Theory]
    [InlineData(NodeState.Secondary, NodeState.Secondary, true)]
    [InlineData(NodeState.CatchingUp, NodeState.CatchingUp, true)]
    [InlineData(NodeState.CatchingUp, NodeState.Secondary, false)]
    [InlineData(NodeState.WaitStandby, NodeState.CatchingUp, false)]
    [InlineData(NodeState.ReportLsn, NodeState.ReportLsn, false)]
    [InlineData(NodeState.Primary, NodeState.Primary, false)]
    [InlineData(NodeState.Secondary, NodeState.Dropped, false)]
    public void Replica_check_passes_for_converged_streaming_standbys_only(NodeState reported, NodeState goal, bool passes)
    {
        Assert.Equal(passes, NodeRoles.PassesReplicaCheck(Node(2, reported, goal)));
        Assert.False(NodeRoles.PassesReplicaCheck(Node(2, reported, goal, health: NodeHealth.Bad)));
    }

    [Fact]
    public void An_unhealthy_nodes_reason_says_the_running_flag_is_only_its_keepers_last_report()
    {
        var killed = Node(1, NodeState.Primary, health: NodeHealth.Bad) with { LastReportAt = new DateTimeOffset(2026, 12, 3, 17, 0, 5, TimeSpan.Zero) };
        Assert.Equal("unhealthy (the monitor's probes fail; its keeper's last report, at 17:00:05Z, said PostgreSQL was running)",
            PgAutoFailover.UriService.Http.UriEndpoints.UnhealthyReason(killed));
        var neverReported = Node(2, NodeState.WaitStandby, pgIsRunning: false) with { LastReportAt = null };
        Assert.Equal("unhealthy (health good; its keeper has not reported yet)", PgAutoFailover.UriService.Http.UriEndpoints.UnhealthyReason(neverReported));
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.UriService.Topology;
using static PgAutoFailover.UriService.Tests.Snapshots;

namespace PgAutoFailover.UriService.Tests;

public sealed class ConnectionStringsTests
{
    private static readonly UriParameters Require = new("require");

    [Fact]
    public void The_primary_comes_first_then_standbys_by_node_id()
    {
        var formation = Formation("f", 1, Node(1, NodeState.Secondary), Node(3, NodeState.Secondary), Node(2, NodeState.Primary));
        Assert.Equal("postgres://127.0.0.1:5502,127.0.0.1:5501,127.0.0.1:5503/appdb?target_session_attrs=read-write&sslmode=require",
            ConnectionStrings.Build(formation, UriTarget.ReadWrite, Require));
    }

    [Fact]
    public void Dropped_nodes_and_other_groups_are_left_out()
    {
        var formation = Formation("f", 1, Node(1, NodeState.Single), Node(2, NodeState.Secondary, NodeState.Dropped), Node(4, NodeState.Primary, group: 1));
        Assert.Equal("postgres://127.0.0.1:5501/appdb?target_session_attrs=read-write", ConnectionStrings.Build(formation, UriTarget.ReadWrite, UriParameters.None));
    }

    [Fact]
    public void Without_a_writer_the_nodes_are_listed_by_node_id()
    {
        var formation = Formation("f", 1, Node(2, NodeState.StopReplication), Node(1, NodeState.Draining, NodeState.DemoteTimeout));
        Assert.StartsWith("postgres://127.0.0.1:5501,127.0.0.1:5502/", ConnectionStrings.Build(formation, UriTarget.ReadWrite, UriParameters.None));
    }

    [Theory]
    [InlineData(null, "read-write")]
    [InlineData("any", "any")]
    [InlineData("standby", "standby")]
    [InlineData("prefer-standby", "prefer-standby")]
    [InlineData("PRIMARY", "read-write")]
    public void Targets_map_to_target_session_attrs(string? target, string attrs)
    {
        Assert.True(ConnectionStrings.TryParseTarget(target, out var parsed));
        var formation = Formation("f", 1, Node(1, NodeState.Single));
        Assert.Contains($"?target_session_attrs={attrs}&", ConnectionStrings.Build(formation, parsed, Require));
    }

    [Fact]
    public void Unknown_targets_are_refused() => Assert.False(ConnectionStrings.TryParseTarget("read-only", out _));

    [Fact]
    public void Ssl_files_ipv6_hosts_and_odd_database_names_are_escaped()
    {
        var node = Node(1, NodeState.Single) with { Node = new NodeAddress("f", 0, 1, "n1", "::1", 5432) };
        var formation = Formation("f", 1, node) with { DatabaseName = "my db" };
        Assert.Equal("postgres://[::1]:5432/my%20db?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=%2Fetc%2Froot.crt",
            ConnectionStrings.Build(formation, UriTarget.ReadWrite, new UriParameters("verify-full", "/etc/root.crt")));
    }

    [Fact]
    public void The_application_role_goes_before_the_hosts_and_no_password_goes_anywhere()
    {
        var formation = Formation("f", 2, Node(1, NodeState.Primary), Node(2, NodeState.Secondary)) with { DatabaseName = "appdb" };
        Assert.Equal("postgres://app%20user@127.0.0.1:5501,127.0.0.1:5502/appdb?target_session_attrs=read-write&sslmode=require",
            ConnectionStrings.Build(formation, UriTarget.ReadWrite, Require with { User = "app user" }));
    }
}

using PgAutoFailover.Contracts;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>The one set of rules for well-formed messages, shared by the monitor's filter, the CLI and the keeper.</summary>
public class MessageRulesTests
{
    private static RegisterNode Registration(string host = "db1.example.com", int port = 5432, string formation = "default", string? name = "node_1") =>
        new(formation, null, name, host, port, "postgres", null, 50, true, null, NodeState.Init);

    [Theory]
    [InlineData("default")]
    [InlineData("app-1_eu")]
    [InlineData("A")]
    public void Good_formation_names_pass(string name) => Assert.Null(MessageRules.Formation(name));

    [Theory]
    [InlineData(null, "the formation name is empty")]
    [InlineData("", "the formation name is empty")]
    [InlineData("a b", "\"a b\" is not a valid formation name (letters, digits, '_' and '-', not first)")]
    [InlineData("a/b", "\"a/b\" is not a valid formation name (letters, digits, '_' and '-', not first)")]
    [InlineData("a.b", "\"a.b\" is not a valid formation name (letters, digits, '_' and '-', not first)")]
    [InlineData("-x", "\"-x\" is not a valid formation name (letters, digits, '_' and '-', not first)")]
    [InlineData("a\nb", "\"a?b\" is not a valid formation name (letters, digits, '_' and '-', not first)")]
    public void Bad_formation_names_are_named_in_one_line(string? name, string problem) => Assert.Equal(problem, MessageRules.Formation(name));

    [Fact]
    public void A_formation_name_may_have_63_characters_and_no_more()
    {
        Assert.Null(MessageRules.Formation(new string('f', 63)));
        Assert.Equal("the formation name has 64 characters, more than 63", MessageRules.Formation(new string('f', 64)));
    }

    [Theory]
    [InlineData("127.0.0.1", null)]
    [InlineData("::1", null)]
    [InlineData("db-1.internal", null)]
    [InlineData("", "the host is empty")]
    [InlineData("a host", "\"a host\" is not a host name or address")]
    [InlineData("h1,h2", "\"h1,h2\" is not a host name or address")]
    [InlineData("user@h", "\"user@h\" is not a host name or address")]
    public void Hosts(string host, string? problem) => Assert.Equal(problem, MessageRules.Problem(Registration(host)));

    [Fact]
    public void A_megabyte_of_host_is_refused_by_its_length_not_echoed()
    {
        var problem = MessageRules.Problem(Registration(new string('h', 1 << 20)));
        Assert.Equal("the host has 1048576 characters, more than 253", problem);
    }

    [Fact]
    public void Null_where_the_wire_should_have_had_text_is_a_refusal_not_an_exception()
    {
        Assert.Equal("the formation name is empty", MessageRules.Problem(new PerformFailover(null!, 0)));
        Assert.Equal("the host is empty", MessageRules.Problem(Registration(host: null!)));
        Assert.Equal("the node address is missing", MessageRules.Problem(
            new NodeProbed(null!, true, null, TimeSpan.Zero, "checker", DateTimeOffset.UnixEpoch, false)));
        Assert.Equal("give a node id or a node name", MessageRules.Problem(new DropNode("default", null, null, false)));
    }

    [Fact]
    public void Numbers_out_of_range_are_named()
    {
        Assert.Equal("port 70000 is not between 1 and 65535", MessageRules.Problem(Registration(port: 70000)));
        Assert.Equal("candidate priority 101 is not between 0 and 100", MessageRules.Problem(new SetCandidatePriority("default", 2, 101)));
        Assert.Equal("node id 0 is not a positive number", MessageRules.Problem(new EnableMaintenance("default", 0, false)));
        Assert.Equal("group -1 is negative", MessageRules.Problem(new PerformSwitchover("default", -1)));
        Assert.Equal("number_sync_standbys -1 is not between 0 and 100", MessageRules.Problem(new SetNumberSyncStandbys("default", -1)));
        Assert.Equal("42 is not a node state", MessageRules.Problem(Registration() with { InitialState = (NodeState)42 }));
    }

    [Fact]
    public void A_keepers_report_carries_bounded_text()
    {
        var report = new ReportNodeState("default", 0, 1, NodeState.Primary, true, 1, 1, "quorum", null, 1, DateTimeOffset.UnixEpoch);
        Assert.Null(MessageRules.Problem(report));
        Assert.Equal("the last error has 2001 characters, more than 2000", MessageRules.Problem(report with { LastError = new string('e', 2001) }));
        Assert.Equal("report epoch -1 is negative", MessageRules.Problem(report with { Epoch = -1 }));
    }

    [Fact]
    public void Every_request_the_monitor_consumes_has_rules()
    {
        // A new request type must be added to MessageRules.Problem: its defaults (empty formation) then break a rule.
        var requests = typeof(RegisterNode).Assembly.GetTypes()
            .Where(t => t.Namespace == "PgAutoFailover.Contracts" && t.IsClass && !t.IsAbstract && t.GetConstructors().Length == 1)
            .Where(t => t.Name.StartsWith("Get", StringComparison.Ordinal) || t.Name.StartsWith("Set", StringComparison.Ordinal)
                || t.Name.StartsWith("Perform", StringComparison.Ordinal) || t.Name.EndsWith("Maintenance", StringComparison.Ordinal)
                || t.Name.StartsWith("Drop", StringComparison.Ordinal) || t.Name.StartsWith("Create", StringComparison.Ordinal)
                || t.Name is nameof(RegisterNode) or nameof(ReportNodeState) or nameof(UpdateNodeMetadata) or nameof(NodeProbed))
            .ToList();
        Assert.True(requests.Count >= 18, $"found {requests.Count} request types");
        foreach (var type in requests)
        {
            var ctor = type.GetConstructors().Single();
            var blank = ctor.Invoke(ctor.GetParameters().Select(p => p.ParameterType.IsValueType && Nullable.GetUnderlyingType(p.ParameterType) is null
                ? Activator.CreateInstance(p.ParameterType) : null).ToArray());
            Assert.True(MessageRules.Problem(blank) is not null || type == typeof(GetTopology), $"{type.Name} with blank fields passes the rules");
        }
    }
}

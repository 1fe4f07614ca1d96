using PgAutoFailover.Cli.Formatting;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

public sealed class LsnTests
{
    [Theory]
    [InlineData(0x4000678UL, "0/4000678")]
    [InlineData(0UL, "0/0")]
    [InlineData(0x1_0000_0000UL, "1/0")]
    [InlineData(0x16_B374_D848UL, "16/B374D848")]
    [InlineData(ulong.MaxValue, "FFFFFFFF/FFFFFFFF")]
    public void Formats_like_postgresql(ulong lsn, string expected)
    {
        Assert.Equal(expected, Lsn.Format(lsn));
        Assert.True(Lsn.TryParse(expected, out var back));
        Assert.Equal(lsn, back);
    }

    [Fact]
    public void Timeline_is_right_aligned_in_three_characters()
    {
        Assert.Equal("  1: 0/4000678", Lsn.FormatWithTimeline(1, 0x4000678));
        Assert.Equal(" 12: 0/0", Lsn.FormatWithTimeline(12, 0));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("0/xyz")]
    [InlineData("1/2/3")]
    public void Rejects_text_that_is_not_an_lsn(string text) => Assert.False(Lsn.TryParse(text, out _));
}

public sealed class ConnectionColumnTests
{
    [Theory]
    [InlineData(NodeState.Single, "read-write")]
    [InlineData(NodeState.WaitPrimary, "read-write")]
    [InlineData(NodeState.Primary, "read-write")]
    [InlineData(NodeState.JoinPrimary, "read-write")]
    [InlineData(NodeState.ApplySettings, "read-write")]
    [InlineData(NodeState.PrepareMaintenance, "read-write")]
    [InlineData(NodeState.Secondary, "read-only")]
    [InlineData(NodeState.CatchingUp, "read-only")]
    [InlineData(NodeState.PreparePromotion, "read-only")]
    [InlineData(NodeState.StopReplication, "read-only")]
    [InlineData(NodeState.WaitMaintenance, "read-only")]
    [InlineData(NodeState.ReportLsn, "read-only")]
    [InlineData(NodeState.FastForward, "read-only")]
    [InlineData(NodeState.JoinSecondary, "read-only")]
    [InlineData(NodeState.Init, "none")]
    [InlineData(NodeState.Draining, "none")]
    [InlineData(NodeState.DemoteTimeout, "none")]
    [InlineData(NodeState.Demoted, "none")]
    [InlineData(NodeState.WaitStandby, "none")]
    [InlineData(NodeState.Maintenance, "none")]
    [InlineData(NodeState.Dropped, "none")]
    [InlineData(NodeState.Unknown, "none")]
    public void Follows_the_conn_column_of_the_state_catalogue(NodeState state, string expected) =>
        Assert.Equal(expected, ConnectionColumn.Of(state, NodeHealth.Good));

    [Fact]
    public void Marks_bad_health_with_a_bang_and_unknown_health_with_a_question_mark()
    {
        Assert.Equal("read-write !", ConnectionColumn.Of(NodeState.Primary, NodeHealth.Bad));
        Assert.Equal("read-only ?", ConnectionColumn.Of(NodeState.Secondary, NodeHealth.Unknown));
        Assert.Equal("none !", ConnectionColumn.Of(NodeState.Demoted, NodeHealth.Bad));
    }

    [Fact]
    public void Every_state_has_a_snake_case_name_no_longer_than_the_column()
    {
        foreach (var state in Enum.GetValues<NodeState>())
        {
            var name = StateNames.Of(state);
            Assert.Matches("^[a-z_]+$", name);
            Assert.True(name.Length <= StateNames.Width, name);
        }
        Assert.Equal("prepare_maintenance", StateNames.Of(NodeState.PrepareMaintenance));
        Assert.Equal("catchingup", StateNames.Of(NodeState.CatchingUp));
    }
}

public sealed class StateViewTests
{
    internal static NodeSnapshot Node(long id, string name, int port, NodeState reported, NodeState goal,
        NodeHealth health = NodeHealth.Good, int group = 0, ulong lsn = 0x4000678, string formation = "default") =>
        FakeMonitor.Snapshot(id, name, port, reported, goal, health, group, lsn, formation);

    [Fact]
    public void Renders_the_table_of_spec_section_4_2()
    {
        var state = new FormationState("default", "postgres", 1,
        [
            Node(2, "node2", 5502, NodeState.Secondary, NodeState.Secondary),
            Node(1, "node1", 5501, NodeState.Primary, NodeState.Primary),
        ]);

        var expected =
            " Name |  Node |      Host:Port |       TLI: LSN |   Connection |      Reported State |      Assigned State\n" +
            "------+-------+----------------+----------------+--------------+---------------------+--------------------\n" +
            "node1 |     1 | localhost:5501 |   1: 0/4000678 |   read-write |             primary |             primary\n" +
            "node2 |     2 | localhost:5502 |   1: 0/4000678 |    read-only |           secondary |           secondary\n";
        Assert.Equal(expected, StateView.Render(state));
    }

    [Fact]
    public void Orders_rows_by_group_then_node_id_and_shows_group_slash_node_outside_group_0()
    {
        var state = new FormationState("f", "postgres", 0,
        [
            Node(5, "c", 5505, NodeState.Primary, NodeState.Primary, group: 1),
            Node(3, "b", 5503, NodeState.Secondary, NodeState.Secondary),
            Node(1, "a", 5501, NodeState.Primary, NodeState.Primary),
        ]);
        var rows = StateView.Ordered(state).Select(StateView.Row).ToList();
        Assert.Equal(["a", "b", "c"], rows.Select(r => r[0]));
        Assert.Equal("1/5", rows[2][1]);
        Assert.Equal("3", rows[1][1]);
    }

    [Fact]
    public void An_empty_formation_prints_the_header_only()
    {
        var lines = StateView.Render(new FormationState("f", "postgres", 0, [])).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith("Assigned State", lines[0]);
    }

    [Fact]
    public void State_columns_keep_their_width_whatever_the_states()
    {
        var a = StateView.Render(new FormationState("f", "p", 0, [Node(1, "n", 1, NodeState.Single, NodeState.Single)])).Split('\n')[1];
        var b = StateView.Render(new FormationState("f", "p", 0, [Node(1, "n", 1, NodeState.PrepareMaintenance, NodeState.WaitMaintenance, NodeHealth.Unknown)])).Split('\n')[1];
        Assert.Equal(a, b);
    }

    [Fact]
    public void Json_rows_carry_the_current_state_columns()
    {
        var rows = StateView.Json(new FormationState("default", "postgres", 0, [Node(1, "node1", 5501, NodeState.Primary, NodeState.Draining, NodeHealth.Bad)]));
        var row = Assert.Single(rows);
        Assert.Equal("pgsql", row.FormationKind);
        Assert.Equal("primary", row.CurrentGroupState);
        Assert.Equal("draining", row.AssignedGroupState);
        Assert.Equal("0/4000678", row.ReportedLsn);
        Assert.Equal(0, row.Health);
        Assert.Equal(-1, StateView.HealthCode(NodeHealth.Unknown));
        Assert.Equal(1, StateView.HealthCode(NodeHealth.Good));
    }

    [Fact]
    public void Keeper_progress_and_errors_follow_the_table_one_line_each_in_row_order()
    {
        var state = new FormationState("f", "postgres", 0,
        [
            Node(3, "c", 5503, NodeState.WaitStandby, NodeState.CatchingUp, group: 1) with { LastError = "cannot reach a:1" },
            Node(2, "b", 5502, NodeState.Demoted, NodeState.CatchingUp) with { Progress = "pg_rewind from node 1 (a:1) running for 2 s", LastError = "pg_rewind failed" },
            Node(1, "a", 5501, NodeState.Primary, NodeState.Primary) with { LastError = " " },
        ]);
        var text = StateView.Render(state);
        var table = TextTable.Render(StateView.Columns, StateView.Ordered(state).Select(StateView.Row));
        Assert.Equal(table +
            "\n" +
            "b (2): progress: pg_rewind from node 1 (a:1) running for 2 s\n" +
            "b (2): last error: pg_rewind failed\n" +
            "c (1/3): last error: cannot reach a:1\n", text);

        var rows = StateView.Json(state);
        Assert.Equal([" ", "pg_rewind failed", "cannot reach a:1"], rows.Select(r => r.LastError)); // --json passes the monitor's values through
        Assert.Equal([null, "pg_rewind from node 1 (a:1) running for 2 s", null], rows.Select(r => r.Progress));
    }

    [Fact]
    public void Ipv6_hosts_are_bracketed() => Assert.Equal("[::1]:5432", StateView.HostPort("::1", 5432));
}

public sealed class TextTableTests
{
    [Fact]
    public void Left_aligned_last_column_has_no_trailing_spaces()
    {
        var text = TextTable.Render([new TextColumn("Type"), new TextColumn("Connection String", LeftAligned: true)],
            [["formation", "postgres://a:1/db"], ["monitor", "x"]]);
        Assert.Equal(
            "     Type | Connection String\n" +
            "----------+------------------\n" +
            "formation | postgres://a:1/db\n" +
            "  monitor | x\n", text);
    }

    [Fact]
    public void A_row_with_the_wrong_number_of_cells_is_a_bug() =>
        Assert.Throws<ArgumentException>(() => TextTable.Render([new TextColumn("a")], [["1", "2"]]));
}

public sealed class EventsViewTests
{
    [Fact]
    public void Renders_events_oldest_first_with_fixed_widths()
    {
        var at = new DateTimeOffset(2026, 11, 25, 21, 5, 37, TimeSpan.Zero).AddTicks(1234560);
        var events = new FormationEvents("default",
        [
            new FormationEvent(8, at.AddSeconds(1), "default", 0, 2, "node2", NodeState.Secondary, NodeState.Secondary, "node 2 is now secondary"),
            new FormationEvent(7, at, "default", 0, null, null, NodeState.Unknown, NodeState.Unknown, "group created\nsecond line"),
        ]);
        var lines = EventsView.Render(events).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal("                    Event Time |   Node |       Current State |      Assigned State | Comment", lines[0]);
        Assert.Equal(" 2026-11-25 21:05:37.123456+00 |    0/- |             unknown |             unknown | group created second line", lines[2]);
        Assert.StartsWith(" 2026-11-25 21:05:38.123456+00 |    0/2 |           secondary |", lines[3]);
        Assert.Equal(7, EventsView.Json(events)[0].Eventid);
    }
}

public sealed class UriViewTests
{
    [Theory]
    [InlineData("""{"formation":"default","target":"read-write","uri":"postgres://a:1,b:2/db?target_session_attrs=read-write","version":3}""", "postgres://a:1,b:2/db?target_session_attrs=read-write")]
    [InlineData("""{"connectionString":"postgres://a:1/db"}""", "postgres://a:1/db")]
    [InlineData("""{"Uri":"postgres://a:1/db"}""", "postgres://a:1/db")]
    [InlineData("postgres://a:1/db\n", "postgres://a:1/db")]
    public void Reads_the_connection_string_tolerantly(string body, string expected) =>
        Assert.Equal(expected, UriView.ParseAnswer(body));

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"uri":42}""")]
    [InlineData("[1]")]
    [InlineData("{not json")]
    public void Finds_nothing_in_an_answer_without_a_connection_string(string body) => Assert.Null(UriView.ParseAnswer(body));

    [Fact]
    public void Renders_the_formation_row()
    {
        Assert.Equal(
            "     Type |    Name | Connection String\n" +
            "----------+---------+------------------\n" +
            "formation | default | postgres://a:1/db\n", UriView.Render("default", "postgres://a:1/db"));
    }

    [Fact]
    public void Reads_the_error_text_of_an_error_body() =>
        Assert.Equal("formation \"x\" is unknown", UriView.ParseError("""{"error":"formation \"x\" is unknown"}"""));
}

public sealed class BrokerAddressTests
{
    [Fact]
    public void Option_wins_over_environment_which_wins_over_the_default()
    {
        Assert.Equal("amqp://a/", BrokerAddress.Resolve("amqp://a/", n => n == "RABBITMQ_URL" ? "amqp://b/" : null));
        Assert.Equal("amqp://b/", BrokerAddress.Resolve(null, n => n == "RABBITMQ_URL" ? "amqp://b/" : null));
        Assert.Equal(BrokerAddress.Default, BrokerAddress.Resolve("", _ => null));
    }

    [Fact]
    public void Rabbitmq_url_file_names_a_file_with_the_url_as_for_the_services()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "amqp://pgaf:s3cret@broker:5672/\n");
            var environment = new Dictionary<string, string?> { ["RABBITMQ_URL_FILE"] = file };
            Assert.Equal("amqp://pgaf:s3cret@broker:5672/", BrokerAddress.Resolve(null, n => environment.GetValueOrDefault(n)));
            Assert.Equal("amqp://a/", BrokerAddress.Resolve("amqp://a/", n => environment.GetValueOrDefault(n)));

            environment["RABBITMQ_URL"] = "amqp://b/";
            var both = Assert.Throws<CliFailure>(() => BrokerAddress.Resolve(null, n => environment.GetValueOrDefault(n)));
            Assert.Equal("RABBITMQ_URL and RABBITMQ_URL_FILE are both set: give one of them", both.Message);
            Assert.Equal(ExitCodes.BadArguments, both.ExitCode);
        }
        finally
        {
            File.Delete(file);
        }
        var missing = Assert.Throws<CliFailure>(() => BrokerAddress.Resolve(null, n => n == "RABBITMQ_URL_FILE" ? "/run/secrets/none" : null));
        Assert.StartsWith("RABBITMQ_URL_FILE: cannot read \"/run/secrets/none\": ", missing.Message);
    }

    [Fact]
    public void Passwords_never_reach_messages()
    {
        Assert.Equal("amqp://pgaf:***@rabbitmq:5672/prod", BrokerAddress.Redact("amqp://pgaf:s3cret@rabbitmq:5672/prod"));
        Assert.Equal("amqp://rabbitmq:5672/", BrokerAddress.Redact("amqp://rabbitmq:5672/"));
    }

    [Fact]
    public void Rejects_a_url_that_is_not_amqp()
    {
        var failure = Assert.Throws<CliFailure>(() => BrokerAddress.Parse("http://x:s3cret@host/"));
        Assert.Equal(ExitCodes.BadArguments, failure.ExitCode);
        Assert.DoesNotContain("s3cret", failure.Message);
    }
}

using System.Text.Json;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// The CLI reads the monitor's read API by hand (JsonDocument): it must read back exactly what the monitor's
/// serializer (web defaults, enums by wire name) writes, nulls included, and call anything else a JsonException.
/// </summary>
public sealed class ReadApiDocumentTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static T RoundTrip<T>(T value) where T : class
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(value, Web);
        var read = ReadApiDocument.Read<T>(json);
        Assert.Equal(JsonSerializer.Serialize(value, Web), JsonSerializer.Serialize(read, Web));
        return read;
    }

    [Fact]
    public void A_state_reads_back_field_for_field_with_and_without_the_optional_ones()
    {
        var state = new FormationState("sales", "app", 1,
        [
            new NodeSnapshot(new NodeAddress("sales", 0, 1, "node1", "10.0.0.1", 5432), NodeState.Primary, NodeState.Primary,
                NodeHealth.Good, 3, 0x3_0000_0A28UL, 50, true, true, new DateTimeOffset(2026, 12, 3, 14, 0, 0, 123, TimeSpan.Zero)),
            new NodeSnapshot(new NodeAddress("sales", 0, 2, "node2", "10.0.0.2", 5433), NodeState.CatchingUp, NodeState.Secondary,
                NodeHealth.Bad, 2, ulong.MaxValue, 0, false, false, null, "pg_basebackup failed", "copying 40 %"),
        ]);

        var read = RoundTrip(state);

        Assert.Equal(NodeState.CatchingUp, read.Nodes[1].ReportedState);
        Assert.Null(read.Nodes[1].LastReportAt);
        Assert.Equal(ulong.MaxValue, read.Nodes[1].Lsn);
    }

    [Fact]
    public void Events_settings_and_a_refusal_read_back()
    {
        RoundTrip(new FormationEvents("sales",
        [
            new FormationEvent(7, FakeMonitor.EventTime, "sales", 0, 1, "node1", NodeState.Primary, NodeState.Unknown, "reported"),
            new FormationEvent(8, FakeMonitor.EventTime.AddSeconds(1), "sales", 0, null, null, NodeState.Unknown, NodeState.Unknown, "formation created"),
        ]));
        RoundTrip(new FormationSettings("sales", [new NodeSetting("formation", "sales", "number_sync_standbys", "0")]));
        RoundTrip(new OperatorCommandRefused("sales", "formation \"sales\" does not exist"));
    }

    [Theory]
    [InlineData("""{"formation":"sales","databaseName":"app","numberSyncStandbys":0}""")] // no nodes
    [InlineData("""{"formation":"sales","databaseName":"app","numberSyncStandbys":"one","nodes":[]}""")] // wrong kind
    [InlineData("""{"formation":null,"databaseName":"app","numberSyncStandbys":0,"nodes":[]}""")] // null name
    [InlineData("""[1, 2]""")]
    [InlineData("""{"formation":"sales" """)] // truncated
    public void Anything_else_is_a_json_exception(string json)
    {
        Assert.ThrowsAny<JsonException>(() => ReadApiDocument.Read<FormationState>(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void A_node_state_the_cli_does_not_know_is_a_json_exception()
    {
        var json = JsonSerializer.Serialize(new FormationEvents("sales",
            [new FormationEvent(1, FakeMonitor.EventTime, "sales", 0, 1, "node1", NodeState.Primary, NodeState.Primary, "x")]), Web)
            .Replace("\"primary\"", "\"future_state\"", StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => ReadApiDocument.Read<FormationEvents>(System.Text.Encoding.UTF8.GetBytes(json)));
    }
}

using System.Globalization;
using System.Text.Json;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// Reads the monitor's HTTP read API answers (JSON, web naming: camelCase) through <see cref="JsonDocument"/>.
/// Not JsonSerializer, not even source-generated: its metadata is generic over every property type, and those
/// instantiations live outside this program's precompiled code, so a one-shot <c>pgaf show state</c> JIT-compiled
/// about 400 methods (585 in all, 176 without them) and spent about 0.03 CPU-s of its 0.1 target on them.
/// A field missing or of the wrong kind is a <see cref="JsonException"/>: the caller then asks over the bus.
/// </summary>
internal static class ReadApiDocument
{
    public static TResult Read<TResult>(ReadOnlyMemory<byte> body) where TResult : class
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        try
        {
            object result = typeof(TResult) switch
            {
                var t when t == typeof(FormationState) => State(root),
                var t when t == typeof(FormationEvents) => Events(root),
                var t when t == typeof(FormationSettings) => Settings(root),
                var t when t == typeof(OperatorCommandRefused) => new OperatorCommandRefused(Text(root, "formation"), Text(root, "reason")),
                _ => throw new NotSupportedException($"the read API has no answer of type {typeof(TResult).Name}"),
            };
            return (TResult)result;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new JsonException($"unexpected answer from the monitor's read API: {e.Message}", e);
        }
    }

    private static FormationState State(JsonElement root) => new(
        Text(root, "formation"),
        Text(root, "databaseName"),
        root.GetProperty("numberSyncStandbys").GetInt32(),
        List(root, "nodes", Node));

    private static NodeSnapshot Node(JsonElement e)
    {
        var node = e.GetProperty("node");
        return new NodeSnapshot(
            new NodeAddress(Text(node, "formation"), node.GetProperty("groupId").GetInt32(), node.GetProperty("nodeId").GetInt64(),
                Text(node, "nodeName"), Text(node, "host"), node.GetProperty("port").GetInt32()),
            Enum<NodeState>(e, "reportedState"),
            Enum<NodeState>(e, "goalState"),
            Enum<NodeHealth>(e, "health"),
            e.GetProperty("timeline").GetInt32(),
            e.GetProperty("lsn").GetUInt64(),
            e.GetProperty("candidatePriority").GetInt32(),
            e.GetProperty("replicationQuorum").GetBoolean(),
            e.GetProperty("pgIsRunning").GetBoolean(),
            Time(e, "lastReportAt"),
            OptionalText(e, "lastError"),
            OptionalText(e, "progress"));
    }

    private static FormationEvents Events(JsonElement root) => new(Text(root, "formation"), List(root, "events", e => new FormationEvent(
        e.GetProperty("eventId").GetInt64(),
        Time(e, "occurredAt") ?? throw new FormatException("an event without occurredAt"),
        Text(e, "formation"),
        e.GetProperty("groupId").GetInt32(),
        e.TryGetProperty("nodeId", out var id) && id.ValueKind != JsonValueKind.Null ? id.GetInt64() : null,
        OptionalText(e, "nodeName"),
        Enum<NodeState>(e, "reportedState"),
        Enum<NodeState>(e, "goalState"),
        Text(e, "description"))));

    private static FormationSettings Settings(JsonElement root) => new(Text(root, "formation"), List(root, "settings", e =>
        new NodeSetting(Text(e, "context"), Text(e, "name"), Text(e, "setting"), Text(e, "value"))));

    private static List<T> List<T>(JsonElement parent, string name, Func<JsonElement, T> read)
    {
        var array = parent.GetProperty(name);
        var items = new List<T>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray()) items.Add(read(item));
        return items;
    }

    private static string Text(JsonElement parent, string name) =>
        parent.GetProperty(name).GetString() ?? throw new FormatException($"{name} is null");

    private static string? OptionalText(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.GetString() : null;

    private static DateTimeOffset? Time(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)
            : null;

    private static T Enum<T>(JsonElement parent, string name) where T : struct, Enum =>
        WireNames<T>.TryParse(parent.GetProperty(name).GetString(), out var value)
            ? value
            : throw new FormatException($"{name} is not a {typeof(T).Name}");
}

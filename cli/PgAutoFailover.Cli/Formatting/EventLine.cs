using System.Globalization;
using System.Text.Json;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>
/// One event of `pgaf events tail`: a line of text (time, type, formation/group, what happened), or with --json one
/// compact JSON object per line, {"type", "messageId", "message"} with the event as it travels (docs/events.md), for jq.
/// </summary>
public static class EventLine
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The formation an event concerns.</summary>
    public static string Formation(object message) => message switch
    {
        PrimaryChanged e => e.Formation,
        FailoverStarted e => e.Formation,
        FailoverCompleted e => e.Formation,
        FailoverBlocked e => e.Formation,
        NodeHealthChanged e => e.Node.Formation,
        NodeStateChanged e => e.Node.Formation,
        GoalStateAssigned e => e.Node.Formation,
        FormationTopologyChanged e => e.Formation,
        ConnectionStringChanged e => e.Formation,
        NodeProbed e => e.Node.Formation,
        _ => "",
    };

    public static string Text(object message)
    {
        var (at, where, what) = message switch
        {
            PrimaryChanged e => (e.OccurredAt, Group(e.Formation, e.GroupId), $"primary {Node(e.PreviousPrimary)} -> {Node(e.NewPrimary)}"),
            FailoverStarted e => (e.OccurredAt, Group(e.Formation, e.GroupId),
                $"{(e.Planned ? "switchover" : "failover")} started ({e.Reason}); old primary {Node(e.OldPrimary)}"),
            FailoverCompleted e => (e.OccurredAt, Group(e.Formation, e.GroupId),
                $"failover completed in {e.Duration.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)} s: {Node(e.OldPrimary)} -> {Node(e.NewPrimary)}"),
            FailoverBlocked e => (e.OccurredAt, Group(e.Formation, e.GroupId),
                e.Reason is null ? "failover possible again" : $"no failover can happen: {e.Reason}"),
            NodeHealthChanged e => (e.OccurredAt, Group(e.Node.Formation, e.Node.GroupId),
                $"{Node(e.Node)} health {Name(e.PreviousHealth)} -> {Name(e.Health)}{(e.Reason is null ? "" : $": {e.Reason}")}"),
            NodeStateChanged e => (e.OccurredAt, Group(e.Node.Formation, e.Node.GroupId),
                $"{Node(e.Node)} reported {Name(e.PreviousState)} -> {Name(e.ReportedState)} (goal {Name(e.GoalState)})"),
            GoalStateAssigned e => (e.OccurredAt, Group(e.Node.Formation, e.Node.GroupId),
                $"{Node(e.Node)} goal {Name(e.PreviousGoalState)} -> {Name(e.GoalState)}: {e.Description}"),
            FormationTopologyChanged e => (e.OccurredAt, e.Formation, $"topology version {e.Version}: {e.Nodes.Count} node(s)"),
            ConnectionStringChanged e => (e.OccurredAt, e.Formation, $"connection string {e.ConnectionString}"),
            NodeProbed e => (e.ProbedAt, Group(e.Node.Formation, e.Node.GroupId),
                $"probe of {Node(e.Node)} by {e.CheckerId}: {(e.Succeeded ? "ok" : $"failed ({e.Error})")}"),
            _ => (DateTimeOffset.MinValue, "", message.ToString() ?? ""),
        };
        return $"{at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}  {message.GetType().Name,-24} {where,-12} {what}";
    }

    public static string JsonLine(object message, Guid? messageId)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", message.GetType().Name);
            if (messageId is { } id) writer.WriteString("messageId", id);
            else writer.WriteNull("messageId");
            writer.WritePropertyName("message");
            JsonSerializer.Serialize(writer, message, message.GetType(), Json);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Group(string formation, int group) => $"{formation}/{group}";
    private static string Node(NodeAddress? node) => node is null ? "none" : $"{node.NodeName} (node {node.NodeId}, {node.Host}:{node.Port})";
    private static string Name(NodeState state) => WireNames<NodeState>.Of(state);
    private static string Name(NodeHealth health) => WireNames<NodeHealth>.Of(health);
}

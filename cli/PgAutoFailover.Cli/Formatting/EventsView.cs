using System.Globalization;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>show events (docs/operations.md): Event Time | Node | Current State | Assigned State | Comment, oldest first.</summary>
public static class EventsView
{
    public static readonly IReadOnlyList<TextColumn> Columns =
    [
        new("Event Time", MinWidth: 30),
        new("Node", MinWidth: 6),
        new("Current State", MinWidth: StateNames.Width),
        new("Assigned State", MinWidth: StateNames.Width),
        new("Comment", LeftAligned: true),
    ];

    public static IReadOnlyList<FormationEvent> Ordered(FormationEvents events) =>
        events.Events.OrderBy(e => e.OccurredAt).ThenBy(e => e.EventId).ToList();

    /// <summary>PostgreSQL's timestamptz text, in UTC: 2026-11-25 21:05:37.123456+00.</summary>
    public static string Time(DateTimeOffset at) =>
        at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00";

    /// <summary>group/node id; a group-level event has no node.</summary>
    public static string Node(FormationEvent e) =>
        string.Create(CultureInfo.InvariantCulture, $"{e.GroupId}/{(e.NodeId is { } id ? id.ToString(CultureInfo.InvariantCulture) : "-")}");

    public static IReadOnlyList<string> Row(FormationEvent e) =>
    [
        Time(e.OccurredAt),
        Node(e),
        StateNames.Of(e.ReportedState),
        StateNames.Of(e.GoalState),
        OneLine(e.Description),
    ];

    public static string Render(FormationEvents events) => TextTable.Render(Columns, Ordered(events).Select(Row));

    public static IReadOnlyList<EventJsonRow> Json(FormationEvents events) =>
        Ordered(events).Select(e => new EventJsonRow(
            e.EventId, e.OccurredAt, e.Formation, e.NodeId, e.GroupId, e.NodeName,
            StateNames.Of(e.ReportedState), StateNames.Of(e.GoalState), e.Description)).ToList();

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}

/// <summary>One --json row of show events (pg_auto_failover's event columns that the monitor carries).</summary>
public sealed record EventJsonRow(
    long Eventid, DateTimeOffset Eventtime, string Formationid, long? Nodeid, int Groupid, string? Nodename,
    string Reportedstate, string Goalstate, string Description) : IJsonRow
{
    /// <inheritdoc />
    public void WriteTo(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.Number("eventid", Eventid);
        writer.Time("eventtime", Eventtime);
        writer.Text("formationid", Formationid);
        writer.Number("nodeid", Nodeid);
        writer.Number("groupid", Groupid);
        writer.Text("nodename", Nodename);
        writer.Text("reportedstate", Reportedstate);
        writer.Text("goalstate", Goalstate);
        writer.Text("description", Description);
        writer.WriteEndObject();
    }
}

using System.Globalization;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>show state (docs/operations.md): the table and the JSON rows, nodes ordered by group then node id.</summary>
public static class StateView
{
    public static readonly IReadOnlyList<TextColumn> Columns =
    [
        new("Name"),
        new("Node", MinWidth: 5),
        new("Host:Port"),
        new("TLI: LSN"),
        new("Connection", MinWidth: 12),
        new("Reported State", MinWidth: StateNames.Width),
        new("Assigned State", MinWidth: StateNames.Width),
    ];

    public static IReadOnlyList<NodeSnapshot> Ordered(FormationState state) =>
        state.Nodes.OrderBy(n => n.Node.GroupId).ThenBy(n => n.Node.NodeId).ToList();

    /// <summary>The cells of one row. Node is the node id (pgsql formations have a single group 0), else group/node id.</summary>
    public static IReadOnlyList<string> Row(NodeSnapshot node) =>
    [
        node.Node.NodeName,
        node.Node.GroupId == 0
            ? node.Node.NodeId.ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{node.Node.GroupId}/{node.Node.NodeId}"),
        HostPort(node.Node.Host, node.Node.Port),
        Lsn.FormatWithTimeline(node.Timeline, node.Lsn),
        ConnectionColumn.Of(node.ReportedState, node.Health),
        StateNames.Of(node.ReportedState),
        StateNames.Of(node.GoalState),
    ];

    /// <summary>The table, then one line per keeper error and per step in progress (none when every keeper is idle and well).</summary>
    public static string Render(FormationState state)
    {
        var table = TextTable.Render(Columns, Ordered(state).Select(Row));
        var notes = Notes(state);
        return notes.Count == 0 ? table : table + "\n" + string.Join("", notes.Select(n => n + "\n"));
    }

    /// <summary>
    /// "automatic failover is disabled …" when an operator paused it, then "node2 (2): progress: …" and
    /// "node3 (3): last error: …", in row order.
    /// </summary>
    public static IReadOnlyList<string> Notes(FormationState state)
    {
        var notes = new List<string>();
        if (!state.AutomaticFailover)
            notes.Add($"automatic failover is disabled for formation {state.Formation}: no failover starts by itself (pgaf enable automatic-failover)");
        foreach (var node in Ordered(state))
        {
            var who = $"{node.Node.NodeName} ({Row(node)[1]})";
            if (!string.IsNullOrWhiteSpace(node.Progress)) notes.Add($"{who}: progress: {node.Progress}");
            if (!string.IsNullOrWhiteSpace(node.LastError)) notes.Add($"{who}: last error: {node.LastError}");
        }
        return notes;
    }

    /// <summary>host:port, with an IPv6 address in brackets.</summary>
    public static string HostPort(string host, int port) =>
        host.Contains(':')
            ? string.Create(CultureInfo.InvariantCulture, $"[{host}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");

    /// <summary>The --json rows: pg_auto_failover's current_state() columns.</summary>
    public static IReadOnlyList<StateJsonRow> Json(FormationState state) =>
        Ordered(state).Select(n => new StateJsonRow(
            FormationKind: "pgsql",
            Nodename: n.Node.NodeName,
            Nodehost: n.Node.Host,
            Nodeport: n.Node.Port,
            GroupId: n.Node.GroupId,
            NodeId: n.Node.NodeId,
            CurrentGroupState: StateNames.Of(n.ReportedState),
            AssignedGroupState: StateNames.Of(n.GoalState),
            CandidatePriority: n.CandidatePriority,
            ReplicationQuorum: n.ReplicationQuorum,
            ReportedTli: n.Timeline,
            ReportedLsn: Lsn.Format(n.Lsn),
            Health: HealthCode(n.Health),
            Nodecluster: "default",
            Formation: state.Formation,
            PgIsRunning: n.PgIsRunning,
            LastReportAt: n.LastReportAt,
            LastError: n.LastError,
            Progress: n.Progress)).ToList();

    /// <summary>pg_auto_failover's integer health: 1 good, 0 bad, -1 unknown.</summary>
    public static int HealthCode(NodeHealth health) => health switch
    {
        NodeHealth.Good => 1,
        NodeHealth.Bad => 0,
        _ => -1,
    };
}

/// <summary>One --json row of show state (snake_case on output).</summary>
public sealed record StateJsonRow(
    string FormationKind, string Nodename, string Nodehost, int Nodeport, int GroupId, long NodeId,
    string CurrentGroupState, string AssignedGroupState, int CandidatePriority, bool ReplicationQuorum,
    int ReportedTli, string ReportedLsn, int Health, string Nodecluster,
    string Formation, bool PgIsRunning, DateTimeOffset? LastReportAt, string? LastError, string? Progress) : IJsonRow
{
    /// <inheritdoc />
    public void WriteTo(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.Text("formation_kind", FormationKind);
        writer.Text("nodename", Nodename);
        writer.Text("nodehost", Nodehost);
        writer.Number("nodeport", Nodeport);
        writer.Number("group_id", GroupId);
        writer.Number("node_id", NodeId);
        writer.Text("current_group_state", CurrentGroupState);
        writer.Text("assigned_group_state", AssignedGroupState);
        writer.Number("candidate_priority", CandidatePriority);
        writer.WriteBoolean("replication_quorum", ReplicationQuorum);
        writer.Number("reported_tli", ReportedTli);
        writer.Text("reported_lsn", ReportedLsn);
        writer.Number("health", Health);
        writer.Text("nodecluster", Nodecluster);
        writer.Text("formation", Formation);
        writer.WriteBoolean("pg_is_running", PgIsRunning);
        writer.Time("last_report_at", LastReportAt);
        writer.Text("last_error", LastError);
        writer.Text("progress", Progress);
        writer.WriteEndObject();
    }
}

using Microsoft.Extensions.Options;
using PgAutoFailover.Contracts;
using PgAutoFailover.UriService.Topology;

namespace PgAutoFailover.UriService.Http;

/// <summary>The HTTP API: connection strings, node listings and HAProxy-style role checks.</summary>
public static class UriEndpoints
{
    public static IEndpointRouteBuilder MapUriEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/formations/{formation}/uri", GetUri);
        app.MapGet("/formations/{formation}/nodes", GetNodes);
        app.MapGet("/formations/{formation}/uri/watch", WatchEndpoint.WatchAsync);
        app.MapGet("/nodes/{nodeId:long}/primary", (long nodeId, TopologyView view) => Check(view, view.FindNode(nodeId), $"{nodeId}", primary: true));
        app.MapGet("/nodes/{nodeId:long}/replica", (long nodeId, TopologyView view) => Check(view, view.FindNode(nodeId), $"{nodeId}", primary: false));
        app.MapGet("/formations/{formation}/nodes/{name}/primary",
            (string formation, string name, TopologyView view) => Check(view, view.FindNode(formation, name), $"{formation}/{name}", primary: true));
        app.MapGet("/formations/{formation}/nodes/{name}/replica",
            (string formation, string name, TopologyView view) => Check(view, view.FindNode(formation, name), $"{formation}/{name}", primary: false));
        return app;
    }

    public static IResult UnknownFormation(string formation) =>
        Results.Json(new ApiError($"formation \"{formation}\" is unknown"), statusCode: StatusCodes.Status404NotFound);

    public static IResult BadTarget(string? target) =>
        Results.Json(new ApiError($"target \"{target}\" is not one of read-write, any, standby, prefer-standby"), statusCode: StatusCodes.Status400BadRequest);

    public static UriParameters Ssl(UriServiceOptions options) => new(options.SslMode, options.SslRootCert, options.SslCrl, options.User);

    public static UriAnswer Answer(FormationTopologyChanged formation, UriTarget target, UriParameters ssl) =>
        new(formation.Formation, ConnectionStrings.SessionAttrs(target), ConnectionStrings.Build(formation, target, ssl),
            NodeRef.From(NodeRoles.Writer(formation.Nodes, 0)?.Node), formation.Version);

    private static IResult GetUri(string formation, string? target, HttpRequest request, TopologyView view, IOptions<UriServiceOptions> options)
    {
        if (!ConnectionStrings.TryParseTarget(target, out var parsed)) return BadTarget(target);
        if (view.Get(formation) is not { } snapshot) return UnknownFormation(formation);
        var answer = Answer(snapshot, parsed, Ssl(options.Value));
        // curl -H 'Accept: text/plain' gets the bare string, for scripts.
        var accept = request.Headers.Accept.ToString();
        return accept.Contains("text/plain", StringComparison.OrdinalIgnoreCase) && !accept.Contains("json", StringComparison.OrdinalIgnoreCase)
            ? Results.Text(answer.Uri + "\n")
            : Results.Json(answer);
    }

    private static IResult GetNodes(string formation, TopologyView view)
    {
        if (view.Get(formation) is not { } snapshot) return UnknownFormation(formation);
        var nodes = snapshot.Nodes
            .OrderBy(n => n.Node.GroupId).ThenBy(n => n.Node.NodeId)
            .Select(n => new NodeAnswer(n.Node.NodeId, n.Node.NodeName, n.Node.GroupId, n.Node.Host, n.Node.Port,
                NodeRoles.Name(NodeRoles.RoleOf(n, snapshot.Nodes)), n.ReportedState, n.GoalState, n.Health, FormatLsn(n.Lsn),
                n.Timeline, n.PgIsRunning, n.CandidatePriority, n.ReplicationQuorum, n.LastReportAt))
            .ToList();
        return Results.Json(new NodesAnswer(snapshot.Formation, snapshot.DatabaseName, snapshot.Version, nodes));
    }

    private static IResult Check(TopologyView view, (FormationTopologyChanged Formation, NodeSnapshot Node)? found, string asked, bool primary)
    {
        if (found is not var (formation, node)) return Results.Json(new ApiError($"node {asked} is unknown"), statusCode: StatusCodes.Status404NotFound);
        var role = NodeRoles.RoleOf(node, formation.Nodes);
        var fenced = primary && view.IsFencedByPrimaryChange(node.Node.NodeId);
        var passed = primary ? NodeRoles.PassesPrimaryCheck(node, formation.Nodes) && !fenced : NodeRoles.PassesReplicaCheck(node);
        var reason = passed ? "ok"
            : fenced ? "the monitor announced a new primary for this group"
            : !NodeRoles.IsHealthy(node) ? UnhealthyReason(node)
            : $"role is {NodeRoles.Name(role)} ({node.ReportedState} -> {node.GoalState})";
        var answer = new NodeCheckAnswer(primary ? "primary" : "replica", passed, reason, node.Node.NodeId, formation.Formation,
            node.Node.NodeName, node.Node.GroupId, NodeRoles.Name(role), node.ReportedState, node.GoalState, node.Health, formation.Version);
        return Results.Json(answer, statusCode: passed ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// Why a node is unhealthy, saying where each fact comes from: "pg running True" for a primary just killed read as a
    /// fact, when it was only its keeper's last report (a keeper restarting a primary's PostgreSQL keeps saying running).
    /// </summary>
    public static string UnhealthyReason(NodeSnapshot node)
    {
        var probes = node.Health == NodeHealth.Bad ? "the monitor's probes fail" : $"health {node.Health.ToString().ToLowerInvariant()}";
        var report = node.LastReportAt is { } at
            ? $"its keeper's last report, at {at.UtcDateTime:HH:mm:ss}Z, said PostgreSQL {(node.PgIsRunning ? "was running" : "was not running")}"
            : "its keeper has not reported yet";
        return $"unhealthy ({probes}; {report})";
    }

    /// <summary>PostgreSQL's X/Y notation.</summary>
    public static string FormatLsn(ulong lsn) => $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}";
}

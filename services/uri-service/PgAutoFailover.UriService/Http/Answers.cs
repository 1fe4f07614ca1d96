using PgAutoFailover.Contracts;

namespace PgAutoFailover.UriService.Http;

/// <summary>JSON error body of every 4xx answer.</summary>
public sealed record ApiError(string Error);

public sealed record NodeRef(long NodeId, string Name, int GroupId, string Host, int Port)
{
    public static NodeRef? From(NodeAddress? node) =>
        node is null ? null : new NodeRef(node.NodeId, node.NodeName, node.GroupId, node.Host, node.Port);
}

/// <summary>GET /formations/{formation}/uri and each /uri/watch event.</summary>
public sealed record UriAnswer(string Formation, string Target, string Uri, NodeRef? Primary, long Version);

/// <summary>One node of GET /formations/{formation}/nodes.</summary>
public sealed record NodeAnswer(
    long NodeId, string Name, int GroupId, string Host, int Port, string Role,
    NodeState ReportedState, NodeState GoalState, NodeHealth Health, string Lsn, int Timeline, bool PgIsRunning,
    int CandidatePriority, bool ReplicationQuorum, DateTimeOffset? LastReportAt);

public sealed record NodesAnswer(string Formation, string DatabaseName, long Version, IReadOnlyList<NodeAnswer> Nodes);

/// <summary>GET /nodes/{node}/primary and /replica (200 when <see cref="Passed"/>, else 503).</summary>
public sealed record NodeCheckAnswer(
    string Check, bool Passed, string Reason, long NodeId, string Formation, string Name, int GroupId, string Role,
    NodeState ReportedState, NodeState GoalState, NodeHealth Health, long Version);

namespace PgAutoFailover.Client;

/// <summary>The node accepting writes, as the uri-service names it.</summary>
public sealed record PrimaryNode(long NodeId, string Name, int GroupId, string Host, int Port);

/// <summary>
/// One answer of the uri-service (GET /formations/{formation}/uri, and each "uri" event of its watch stream): the
/// formation's multi-host URI, its primary (null while none accepts writes) and the topology version it came from.
/// </summary>
public sealed record UriServiceAnswer(string Formation, string Target, string Uri, PrimaryNode? Primary, long Version);

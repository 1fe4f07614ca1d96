namespace PgAutoFailover.Contracts;

/// <summary>
/// The monitor's HTTP read API (the wire contract of its GET endpoints, not a message): the same answers
/// as <see cref="GetFormationState"/>, <see cref="GetEvents"/> and <see cref="GetSettings"/> over the bus,
/// as JSON (ASP.NET Core's web defaults), for callers that must not pay for a bus client (pgaf, pollers).
/// An unknown formation is 404 with an <see cref="OperatorCommandRefused"/> body.
/// Every answer carries <see cref="BrokerHeader"/>, the broker this monitor serves, so a caller can tell a
/// monitor of its own deployment from another one listening on the same address.
/// </summary>
public static class MonitorReadApi
{
    /// <summary>Response header naming the broker (host:port/vhost) the answering monitor is on.</summary>
    public const string BrokerHeader = "Pgaf-Broker";

    /// <summary>GET: <see cref="FormationState"/>.</summary>
    public static string StatePath(string formation) => $"formations/{Uri.EscapeDataString(formation)}/state";

    /// <summary>GET: <see cref="FormationEvents"/>, the latest <paramref name="count"/> events, oldest first.</summary>
    public static string EventsPath(string formation, int? group, int count) =>
        $"formations/{Uri.EscapeDataString(formation)}/events?count={count}" + (group is { } g ? $"&group={g}" : "");

    /// <summary>GET: <see cref="FormationSettings"/>.</summary>
    public static string SettingsPath(string formation) => $"formations/{Uri.EscapeDataString(formation)}/settings";

    /// <summary>host:port/vhost of an AMQP URI, lower-case host, default ports filled in; no credentials.</summary>
    public static string BrokerIdentity(Uri amqp)
    {
        var port = amqp.IsDefaultPort || amqp.Port <= 0 ? amqp.Scheme == "amqps" ? 5671 : 5672 : amqp.Port;
        var vhost = Uri.UnescapeDataString(amqp.AbsolutePath.TrimStart('/'));
        return $"{amqp.Host.ToLowerInvariant()}:{port}/{(vhost.Length == 0 ? "/" : vhost)}";
    }
}

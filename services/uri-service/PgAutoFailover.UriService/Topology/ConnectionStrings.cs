using System.Text;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.UriService.Topology;

/// <summary>Which sessions a formation URI asks libpq for (its target_session_attrs).</summary>
public enum UriTarget { ReadWrite, Any, Standby, PreferStandby }

/// <summary>What every URI carries besides the hosts (docs/operations.md): the application role, and the SSL parameters.</summary>
public sealed record UriParameters(string? SslMode, string? SslRootCert = null, string? SslCrl = null, string? User = null)
{
    public static readonly UriParameters None = new((string?)null);
}

/// <summary>
/// pg_autoctl show uri, as a pure function: postgres://[user@]host1:port1,host2:port2/dbname?target_session_attrs=…&amp;sslmode=…
/// The password is never in it: libpq takes it from PGPASSWORD or ~/.pgpass.
/// Hosts are the nodes of group 0 without dropped ones, the writer first, then the others by node id.
/// </summary>
public static class ConnectionStrings
{
    public static bool TryParseTarget(string? text, out UriTarget target)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "read-write" or "primary": target = UriTarget.ReadWrite; return true;
            case "any": target = UriTarget.Any; return true;
            case "standby": target = UriTarget.Standby; return true;
            case "prefer-standby": target = UriTarget.PreferStandby; return true;
            default: target = default; return false;
        }
    }

    public static string SessionAttrs(UriTarget target) => target switch
    {
        UriTarget.Any => "any",
        UriTarget.Standby => "standby",
        UriTarget.PreferStandby => "prefer-standby",
        _ => "read-write",
    };

    /// <summary>Host order of the URI: group 0, dropped nodes excluded, the writer first, then by node id.</summary>
    public static IReadOnlyList<NodeSnapshot> HostOrder(IReadOnlyList<NodeSnapshot> nodes)
    {
        var writer = NodeRoles.Writer(nodes, 0);
        return nodes
            .Where(n => n.Node.GroupId == 0 && !NodeRoles.IsDropped(n))
            .OrderBy(n => n.Node.NodeId == writer?.Node.NodeId ? 0 : 1)
            .ThenBy(n => n.Node.NodeId)
            .ToList();
    }

    public static string Build(FormationTopologyChanged formation, UriTarget target, UriParameters ssl)
    {
        var uri = new StringBuilder("postgres://");
        if (!string.IsNullOrWhiteSpace(ssl.User)) uri.Append(Uri.EscapeDataString(ssl.User)).Append('@');
        uri.AppendJoin(',', HostOrder(formation.Nodes).Select(n => $"{HostPart(n.Node.Host)}:{n.Node.Port}"));
        uri.Append('/').Append(Uri.EscapeDataString(formation.DatabaseName));
        uri.Append("?target_session_attrs=").Append(SessionAttrs(target));
        if (!string.IsNullOrWhiteSpace(ssl.SslMode)) uri.Append("&sslmode=").Append(Uri.EscapeDataString(ssl.SslMode));
        if (!string.IsNullOrWhiteSpace(ssl.SslRootCert)) uri.Append("&sslrootcert=").Append(Uri.EscapeDataString(ssl.SslRootCert));
        if (!string.IsNullOrWhiteSpace(ssl.SslCrl)) uri.Append("&sslcrl=").Append(Uri.EscapeDataString(ssl.SslCrl));
        return uri.ToString();
    }

    /// <summary>An IPv6 literal goes in brackets.</summary>
    private static string HostPart(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}

using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>
/// What identifies a node to operators and to the other services (REG-8): its name, unique in the formation, and its
/// host:port, unique across the monitor (the service checks other groups). Shared by register_node and
/// update_node_metadata so that a rename can never create what a registration would refuse.
/// </summary>
public static class NodeIdentity
{
    /// <summary>Longest node name (PostgreSQL's identifier length, as upstream).</summary>
    public const int MaxNameLength = 63;

    /// <summary>The node of <paramref name="group"/> other than <paramref name="except"/> named <paramref name="name"/>, if any.</summary>
    public static MonitorNode? NameOwner(GroupState group, string name, long? except = null) =>
        group.AllNodes.Values.FirstOrDefault(n => n.Name == name && n.NodeId != except);

    /// <summary>The node of <paramref name="group"/> other than <paramref name="except"/> registered at host:port, if any.</summary>
    public static MonitorNode? AddressOwner(GroupState group, string host, int port, long? except = null) =>
        group.AllNodes.Values.FirstOrDefault(n => n.Host == host && n.Port == port && n.NodeId != except);

    /// <summary>Why new metadata is unusable (null: usable); a null field is "unchanged" and always usable.</summary>
    public static string? Invalid(string? name, string? host, int? port)
    {
        if (name is not null && string.IsNullOrWhiteSpace(name)) return "node name must not be empty";
        if (name is { Length: > MaxNameLength }) return $"node name must have at most {MaxNameLength} characters";
        if (host is not null && string.IsNullOrWhiteSpace(host)) return "host must not be empty";
        if (port is < 1 or > 65535) return $"port {port} is not between 1 and 65535";
        return null;
    }
}

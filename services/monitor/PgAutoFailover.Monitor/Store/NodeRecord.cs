using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Store;

/// <summary>
/// Monitor-wide directory of nodes: which group holds node N, and which host:port pairs are taken
/// (unique across the whole monitor, docs/states.md#node-states). Written with the registration, removed with the node.
/// </summary>
public sealed class NodeRecord
{
    /// <summary>Node id.</summary>
    public long Id { get; set; }
    public string Formation { get; set; } = "";
    public int GroupId { get; set; }
    public string Name { get; set; } = "";
    public string Host { get; set; } = "";
    public int Port { get; set; }

    /// <summary>The directory entry of <paramref name="node"/> as <paramref name="group"/> holds it.</summary>
    public static NodeRecord Of(GroupState group, MonitorNode node) => new()
    {
        Id = node.NodeId, Formation = group.Settings.Formation, GroupId = group.Settings.GroupId,
        Name = node.Name, Host = node.Host, Port = node.Port,
    };
}

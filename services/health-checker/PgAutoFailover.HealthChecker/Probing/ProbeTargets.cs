using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>The nodes this checker probes, keyed by node id.</summary>
public sealed class ProbeTargets
{
    private readonly ConcurrentDictionary<long, NodeAddress> _nodes = new();

    public ProbeTargets(IOptions<HealthCheckerOptions> options)
    {
        foreach (var node in options.Value.StaticNodes) _nodes[node.NodeId] = node;
    }

    public IReadOnlyCollection<NodeAddress> Current => _nodes.Values.ToArray();

    public void Set(NodeAddress node) => _nodes[node.NodeId] = node;

    public void Remove(long nodeId) => _nodes.TryRemove(nodeId, out _);
}

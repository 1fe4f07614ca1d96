using PgAutoFailover.ServiceDefaults;
using Microsoft.Extensions.Options;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>
/// The nodes this checker probes: the static ones from the options, and every node of every
/// formation from the monitor's topology snapshots (nodes whose goal is dropped excluded). A
/// snapshot older than the one held for its formation is ignored.
/// </summary>
public sealed class ProbeTargets : ITopologySink
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, NodeAddress> _static = [];
    private readonly Dictionary<string, (long Version, NodeAddress[] Nodes)> _formations = new(StringComparer.Ordinal);
    private Dictionary<long, NodeAddress> _current = [];
    private TaskCompletionSource _changed = NewSignal();

    public ProbeTargets(IOptions<HealthCheckerOptions> options)
    {
        foreach (var node in options.Value.StaticNodes) _static[node.NodeId] = node;
        Rebuild();
    }

    /// <summary>Every node to probe, by node id.</summary>
    public IReadOnlyDictionary<long, NodeAddress> Current => Volatile.Read(ref _current);

    /// <summary>Completes at the next change of <see cref="Current"/>.</summary>
    public Task WhenChanged
    {
        get { lock (_gate) return _changed.Task; }
    }

    public bool TryGet(long nodeId, out NodeAddress node) => Current.TryGetValue(nodeId, out node!);

    /// <summary>Takes a formation's snapshot; false when it is not newer than the one held.</summary>
    Task ITopologySink.ApplyAsync(FormationTopologyChanged snapshot, CancellationToken cancellationToken)
    {
        Apply(snapshot);
        return Task.CompletedTask;
    }

    public bool Apply(FormationTopologyChanged snapshot)
    {
        lock (_gate)
        {
            if (_formations.TryGetValue(snapshot.Formation, out var held) && snapshot.Version <= held.Version) return false;
            _formations[snapshot.Formation] = (snapshot.Version,
                snapshot.Nodes.Where(n => n.GoalState != NodeState.Dropped).Select(n => n.Node).ToArray());
            Rebuild();
            return true;
        }
    }

    /// <summary>Adds or replaces one node outside any snapshot (tests, benchmarks).</summary>
    public void Set(NodeAddress node)
    {
        lock (_gate)
        {
            _static[node.NodeId] = node;
            Rebuild();
        }
    }

    public void Remove(long nodeId)
    {
        lock (_gate)
        {
            if (_static.Remove(nodeId)) Rebuild();
        }
    }

    private void Rebuild()
    {
        var current = new Dictionary<long, NodeAddress>(_static);
        foreach (var (_, nodes) in _formations.Values)
        {
            foreach (var node in nodes) current[node.NodeId] = node;
        }
        Volatile.Write(ref _current, current);
        var changed = _changed;
        _changed = NewSignal();
        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

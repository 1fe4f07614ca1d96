using System.Threading.Channels;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.UriService.Topology;

/// <summary>Outcome of offering a snapshot to the view.</summary>
public enum ApplyOutcome { Applied, Duplicate, Stale }

/// <summary>
/// The latest topology snapshot of every formation. A snapshot replaces the held one only when
/// its version is higher, so a redelivered or re-ordered snapshot never moves a formation back.
/// Watchers subscribe per formation and receive every applied snapshot.
/// </summary>
public sealed class TopologyView
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, FormationTopologyChanged> _formations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Channel<FormationTopologyChanged>>> _watchers = new(StringComparer.Ordinal);
    // PrimaryChanged fast path: nodes the monitor said lost the writer role, valid until a newer snapshot of their formation.
    private readonly Dictionary<long, (string Formation, long SnapshotVersion)> _fenced = [];
    private readonly Dictionary<(string Formation, int GroupId), long> _groupVersions = [];

    public ApplyOutcome Apply(FormationTopologyChanged snapshot)
    {
        List<Channel<FormationTopologyChanged>> watchers;
        lock (_gate)
        {
            if (_formations.TryGetValue(snapshot.Formation, out var held))
            {
                if (snapshot.Version < held.Version) return ApplyOutcome.Stale;
                if (snapshot.Version == held.Version) return ApplyOutcome.Duplicate;
            }
            _formations[snapshot.Formation] = snapshot;
            foreach (var node in _fenced.Where(f => f.Value.Formation == snapshot.Formation).Select(f => f.Key).ToList())
            {
                _fenced.Remove(node);
            }
            watchers = _watchers.TryGetValue(snapshot.Formation, out var list) ? [.. list] : [];
        }
        foreach (var watcher in watchers) watcher.Writer.TryWrite(snapshot);
        return ApplyOutcome.Applied;
    }

    public FormationTopologyChanged? Get(string formation)
    {
        lock (_gate) return _formations.GetValueOrDefault(formation);
    }

    public IReadOnlyList<FormationTopologyChanged> All()
    {
        lock (_gate) return [.. _formations.Values];
    }

    /// <summary>A node by its monitor-wide id, with its formation's snapshot.</summary>
    public (FormationTopologyChanged Formation, NodeSnapshot Node)? FindNode(long nodeId)
    {
        lock (_gate)
        {
            foreach (var formation in _formations.Values)
            {
                var node = formation.Nodes.FirstOrDefault(n => n.Node.NodeId == nodeId);
                if (node is not null) return (formation, node);
            }
            return null;
        }
    }

    /// <summary>A node by formation and node name.</summary>
    public (FormationTopologyChanged Formation, NodeSnapshot Node)? FindNode(string formation, string nodeName)
    {
        var snapshot = Get(formation);
        var node = snapshot?.Nodes.FirstOrDefault(n => string.Equals(n.Node.NodeName, nodeName, StringComparison.Ordinal));
        return snapshot is not null && node is not null ? (snapshot, node) : null;
    }

    /// <summary>
    /// The monitor announced that a group's writer changed. The previous writer stops passing
    /// /primary at once, without waiting for the next topology snapshot; a new writer still needs
    /// a snapshot to pass (the fast path only ever removes a writer). Older group versions are ignored.
    /// </summary>
    public void ApplyPrimaryChanged(PrimaryChanged change)
    {
        lock (_gate)
        {
            var key = (change.Formation, change.GroupId);
            if (_groupVersions.TryGetValue(key, out var seen) && change.GroupVersion <= seen) return;
            _groupVersions[key] = change.GroupVersion;
            if (change.PreviousPrimary is null || change.PreviousPrimary.NodeId == change.NewPrimary?.NodeId) return;
            var version = _formations.TryGetValue(change.Formation, out var held) ? held.Version : 0;
            _fenced[change.PreviousPrimary.NodeId] = (change.Formation, version);
        }
    }

    /// <summary>True while a PrimaryChanged newer than the held snapshot says this node is no longer the writer.</summary>
    public bool IsFencedByPrimaryChange(long nodeId)
    {
        lock (_gate) return _fenced.ContainsKey(nodeId);
    }

    /// <summary>Every snapshot applied to the formation from now on; dispose to stop.</summary>
    public Subscription Watch(string formation)
    {
        var channel = Channel.CreateBounded<FormationTopologyChanged>(
            new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_gate)
        {
            if (!_watchers.TryGetValue(formation, out var list)) _watchers[formation] = list = [];
            list.Add(channel);
        }
        return new Subscription(channel.Reader, () =>
        {
            lock (_gate)
            {
                if (_watchers.TryGetValue(formation, out var list) && list.Remove(channel) && list.Count == 0) _watchers.Remove(formation);
            }
            channel.Writer.TryComplete();
        });
    }

    public sealed class Subscription(ChannelReader<FormationTopologyChanged> reader, Action unsubscribe) : IDisposable
    {
        public ChannelReader<FormationTopologyChanged> Reader { get; } = reader;
        public void Dispose() => unsubscribe();
    }
}

using PgAutoFailover.Contracts;

namespace PgAutoFailover.UriService.Topology;

/// <summary>
/// Decides when ConnectionStringChanged is due: when a formation's read-write URI or its primary
/// differs from what was last published (the first sight of a formation counts as a change).
/// Topology noise — LSN, health, reported states that move neither — publishes nothing.
/// A change is remembered only once <see cref="Commit"/> confirms it was published, so a failed
/// publish is retried on the next look.
/// </summary>
public sealed class ConnectionStringTracker(UriParameters ssl)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (string Uri, NodeAddress? Primary)> _published = new(StringComparer.Ordinal);

    public ConnectionStringChanged? Due(FormationTopologyChanged snapshot, DateTimeOffset now)
    {
        var uri = ConnectionStrings.Build(snapshot, UriTarget.ReadWrite, ssl);
        var primary = NodeRoles.Writer(snapshot.Nodes, 0)?.Node;
        lock (_gate)
        {
            if (_published.TryGetValue(snapshot.Formation, out var last) && last.Uri == uri && Equals(last.Primary, primary)) return null;
        }
        return new ConnectionStringChanged(snapshot.Formation, uri, primary, snapshot.Version, now);
    }

    public void Commit(ConnectionStringChanged published)
    {
        lock (_gate) _published[published.Formation] = (published.ConnectionString, published.Primary);
    }
}

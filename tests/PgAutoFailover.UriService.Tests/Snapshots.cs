using PgAutoFailover.Contracts;

namespace PgAutoFailover.UriService.Tests;

/// <summary>Builders for topology snapshots as the monitor publishes them.</summary>
public static class Snapshots
{
    public static NodeSnapshot Node(long id, NodeState reported, NodeState? goal = null, NodeHealth health = NodeHealth.Good,
        int group = 0, string formation = "default", int? port = null, bool pgIsRunning = true, ulong lsn = 0x1_0000_0060) =>
        new(new NodeAddress(formation, group, id, $"node_{id}", "127.0.0.1", port ?? 5500 + (int)id),
            reported, goal ?? reported, health, 1, lsn, 50, true, pgIsRunning, DateTimeOffset.UnixEpoch);

    public static FormationTopologyChanged Formation(string name, long version, params NodeSnapshot[] nodes) =>
        new(name, "appdb", version, nodes.Select(n => n with { Node = n.Node with { Formation = name } }).ToList(), DateTimeOffset.UtcNow);
}

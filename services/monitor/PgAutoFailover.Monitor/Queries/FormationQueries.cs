using Marten;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Rules;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Messaging;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Queries;

/// <summary>An answer to a read-only question: the result, or why there is none (an unknown formation).</summary>
public sealed record QueryAnswer<T>(T? Result, string? Refusal) where T : class
{
    public static QueryAnswer<T> Of(T result) => new(result, null);
    public static QueryAnswer<T> Refused(string reason) => new(null, reason);
}

/// <summary>
/// The read-only questions an operator asks (state table, events, settings) and the topology snapshot,
/// answered from the groups the monitor holds. One implementation for both ways in: the bus
/// (<see cref="OperatorQueriesConsumer"/>) and the HTTP read API (<see cref="ReadApi"/>).
/// </summary>
public sealed class FormationQueries(GroupCoordinator groups, FormationDirectory formations, IDocumentStore store, GroupStore groupStore, TimeProvider time)
{
    public async Task<QueryAnswer<FormationState>> StateAsync(string formation, CancellationToken cancellationToken)
    {
        if (await formations.FindAsync(formation, cancellationToken) is not { } found) return Unknown<FormationState>(formation);
        var loaded = await GroupsOfAsync(found.Id, cancellationToken);
        var database = loaded.FirstOrDefault()?.State.Settings.DatabaseName ?? found.DatabaseName;
        var sync = loaded.FirstOrDefault()?.State.Settings.NumberSyncStandbys ?? found.NumberSyncStandbys;
        return QueryAnswer<FormationState>.Of(new FormationState(found.Id, database, sync,
            [.. loaded.SelectMany(g => MonitorCore.Snapshot(g.State)).OrderBy(n => n.Node.GroupId).ThenBy(n => n.Node.NodeId)],
            AutomaticFailover: loaded.All(g => g.State.Settings.AutomaticFailover)));
    }

    public async Task<QueryAnswer<FormationEvents>> EventsAsync(GetEvents request, CancellationToken cancellationToken)
    {
        if (await formations.FindAsync(request.Formation, cancellationToken) is null) return Unknown<FormationEvents>(request.Formation);
        var count = Math.Clamp(request.Count <= 0 ? 10 : request.Count, 1, 1000);
        var prefix = request.GroupId is { } g ? GroupStream.Key(request.Formation, g) : GroupStream.FormationPrefix(request.Formation);

        await using var session = store.QuerySession();
        // Leases are renewed every report of a primary: bookkeeping, not events an operator reads.
        var leaseType = groupStore.LeaseEventType;
        var stored = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamKey!.StartsWith(prefix) && e.EventTypeName != leaseType)
            .OrderByDescending(e => e.Sequence)
            .Take(count * 2)
            .ToListAsync(cancellationToken);

        var names = (await GroupsOfAsync(request.Formation, cancellationToken))
            .SelectMany(l => l.State.AllNodes.Values).ToDictionary(n => n.NodeId, n => n.Name);
        var lines = stored
            .Select(e => (Event: e, Line: e.Data is IGroupEvent ge ? EventDescriptions.Describe(ge) : null))
            .Where(x => x.Line is not null)
            .Take(count)
            .Reverse()
            .Select(x => new FormationEvent(x.Event.Sequence, x.Event.Timestamp, request.Formation, GroupOf(x.Event.StreamKey!),
                x.Line!.NodeId, x.Line.NodeId is { } id ? names.GetValueOrDefault(id) : null, x.Line.Reported, x.Line.Goal, x.Line.Description))
            .ToList();
        return QueryAnswer<FormationEvents>.Of(new FormationEvents(request.Formation, lines));
    }

    public async Task<QueryAnswer<FormationSettings>> SettingsAsync(string formation, CancellationToken cancellationToken)
    {
        if (await formations.FindAsync(formation, cancellationToken) is not { } found) return Unknown<FormationSettings>(formation);
        var loaded = await GroupsOfAsync(found.Id, cancellationToken);
        var rows = new List<NodeSetting>
        {
            new("formation", found.Id, "number_sync_standbys",
                (loaded.FirstOrDefault()?.State.Settings.NumberSyncStandbys ?? found.NumberSyncStandbys).ToString()),
            new("formation", found.Id, "automatic failover", loaded.All(g => g.State.Settings.AutomaticFailover) ? "enabled" : "disabled"),
        };
        foreach (var group in loaded)
        {
            if (DecisionPublisher.Writer(group.State) is { } primary)
            {
                rows.Add(new("primary", primary.Name, "synchronous_standby_names", $"'{SyncStandbyNames.Compute(group.State)}'"));
            }
            foreach (var node in group.State.Nodes)
            {
                rows.Add(new("node", node.Name, "replication quorum", node.ReplicationQuorum ? "true" : "false"));
                rows.Add(new("node", node.Name, "candidate priority", node.CandidatePriority.ToString()));
            }
        }
        return QueryAnswer<FormationSettings>.Of(new FormationSettings(found.Id, rows));
    }

    public async Task<TopologySnapshot> TopologyAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var snapshots = new List<FormationTopologyChanged>();
        foreach (var formation in await formations.AllAsync(cancellationToken))
        {
            var loaded = await GroupsOfAsync(formation.Id, cancellationToken);
            snapshots.Add(new FormationTopologyChanged(formation.Id,
                loaded.FirstOrDefault()?.State.Settings.DatabaseName ?? formation.DatabaseName,
                loaded.Sum(g => g.Version),
                [.. loaded.SelectMany(g => MonitorCore.Snapshot(g.State))], now));
        }
        return new TopologySnapshot(snapshots);
    }

    private async Task<IReadOnlyList<LoadedGroup>> GroupsOfAsync(string formation, CancellationToken cancellationToken)
    {
        var result = new List<LoadedGroup>();
        foreach (var key in groups.Current.Select(g => g.Key).Where(k => k.StartsWith(GroupStream.FormationPrefix(formation))).Order())
        {
            if (await groups.ReadAsync(key, cancellationToken) is { } loaded) result.Add(loaded);
        }
        return result;
    }

    private static QueryAnswer<T> Unknown<T>(string formation) where T : class =>
        QueryAnswer<T>.Refused($"formation \"{formation}\" does not exist");

    private static int GroupOf(string streamKey) => int.Parse(streamKey[(streamKey.LastIndexOf('/') + 1)..]);
}

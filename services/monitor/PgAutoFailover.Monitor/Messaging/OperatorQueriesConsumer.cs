using JasperFx.Events;
using Marten;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Rules;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>Read-only questions: state table, events, settings (spec §4.2, §4.3, §4.5) and the topology snapshot.</summary>
public sealed class OperatorQueriesConsumer(GroupCoordinator groups, FormationDirectory formations, IDocumentStore store, GroupStore groupStore, TimeProvider time) :
    IConsumer<GetFormationState>, IConsumer<GetEvents>, IConsumer<GetSettings>, IConsumer<GetTopology>
{
    public async Task Consume(ConsumeContext<GetFormationState> context)
    {
        if (await FormationAsync(context, context.Message.Formation) is not { } formation) return;
        var loaded = await GroupsOfAsync(formation.Id, context.CancellationToken);
        var database = loaded.FirstOrDefault()?.State.Settings.DatabaseName ?? formation.DatabaseName;
        var sync = loaded.FirstOrDefault()?.State.Settings.NumberSyncStandbys ?? formation.NumberSyncStandbys;
        await context.RespondAsync(new FormationState(formation.Id, database, sync,
            [.. loaded.SelectMany(g => MonitorCore.Snapshot(g.State)).OrderBy(n => n.Node.GroupId).ThenBy(n => n.Node.NodeId)]));
    }

    public async Task Consume(ConsumeContext<GetEvents> context)
    {
        var request = context.Message;
        if (await FormationAsync(context, request.Formation) is null) return;
        var count = Math.Clamp(request.Count <= 0 ? 10 : request.Count, 1, 1000);
        var prefix = request.GroupId is { } g ? GroupStream.Key(request.Formation, g) : GroupStream.FormationPrefix(request.Formation);

        await using var session = store.QuerySession();
        // Leases are renewed every second: bookkeeping, not events an operator reads.
        var leaseType = groupStore.LeaseEventType;
        var stored = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamKey!.StartsWith(prefix) && e.EventTypeName != leaseType)
            .OrderByDescending(e => e.Sequence)
            .Take(count * 2)
            .ToListAsync(context.CancellationToken);

        var names = (await GroupsOfAsync(request.Formation, context.CancellationToken))
            .SelectMany(l => l.State.AllNodes.Values).ToDictionary(n => n.NodeId, n => n.Name);
        var lines = stored
            .Select(e => (Event: e, Line: e.Data is IGroupEvent ge ? EventDescriptions.Describe(ge) : null))
            .Where(x => x.Line is not null)
            .Take(count)
            .Reverse()
            .Select(x => new FormationEvent(x.Event.Sequence, x.Event.Timestamp, request.Formation, GroupOf(x.Event.StreamKey!),
                x.Line!.NodeId, x.Line.NodeId is { } id ? names.GetValueOrDefault(id) : null, x.Line.Reported, x.Line.Goal, x.Line.Description))
            .ToList();
        await context.RespondAsync(new FormationEvents(request.Formation, lines));
    }

    public async Task Consume(ConsumeContext<GetSettings> context)
    {
        if (await FormationAsync(context, context.Message.Formation) is not { } formation) return;
        var loaded = await GroupsOfAsync(formation.Id, context.CancellationToken);
        var rows = new List<NodeSetting>
        {
            new("formation", formation.Id, "number_sync_standbys",
                (loaded.FirstOrDefault()?.State.Settings.NumberSyncStandbys ?? formation.NumberSyncStandbys).ToString()),
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
        await context.RespondAsync(new FormationSettings(formation.Id, rows));
    }

    public async Task Consume(ConsumeContext<GetTopology> context)
    {
        var now = time.GetUtcNow();
        var snapshots = new List<FormationTopologyChanged>();
        foreach (var formation in await formations.AllAsync(context.CancellationToken))
        {
            var loaded = await GroupsOfAsync(formation.Id, context.CancellationToken);
            snapshots.Add(new FormationTopologyChanged(formation.Id,
                loaded.FirstOrDefault()?.State.Settings.DatabaseName ?? formation.DatabaseName,
                loaded.Sum(g => g.Version),
                [.. loaded.SelectMany(g => MonitorCore.Snapshot(g.State))], now));
        }
        await context.RespondAsync(new TopologySnapshot(snapshots));
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

    private async Task<Store.FormationRecord?> FormationAsync<T>(ConsumeContext<T> context, string formation) where T : class
    {
        var found = await formations.FindAsync(formation, context.CancellationToken);
        if (found is null) await context.RespondAsync(new OperatorCommandRefused(formation, $"formation \"{formation}\" does not exist"));
        return found;
    }

    private static int GroupOf(string streamKey) => int.Parse(streamKey[(streamKey.LastIndexOf('/') + 1)..]);
}

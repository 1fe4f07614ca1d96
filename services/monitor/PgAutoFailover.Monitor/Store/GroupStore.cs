using JasperFx;
using Marten;
using Marten.Events;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Store;

/// <summary>
/// The monitor's store: one Marten event stream per group, appended with optimistic concurrency
/// (the expected stream version is checked by the database), periodic snapshots, and liveness
/// documents overwritten in place.
/// </summary>
public sealed class GroupStore(IDocumentStore store, MonitorServiceOptions options)
{
    private readonly EventGraph _events = (EventGraph)((DocumentStore)store).Options.Events;

    /// <summary>Stored type name of <see cref="LeaseGranted"/>: renewals are bookkeeping, pruned here and hidden from `show events`.</summary>
    public string LeaseEventType => _events.EventMappingFor(typeof(LeaseGranted)).EventTypeName;

    public async Task<LoadedGroup?> LoadAsync(string key, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var snapshot = await session.LoadAsync<GroupSnapshot>(key, cancellationToken);
        var state = snapshot is null ? null : GroupStateJson.Deserialize(snapshot.State);
        var version = snapshot?.Version ?? 0;

        var events = await session.Events.FetchStreamAsync(key, fromVersion: version + 1, token: cancellationToken);
        foreach (var stored in events)
        {
            if (stored.Data is not IGroupEvent e) continue;
            state = state is null ? GroupProjection.Rebuild([e]) : GroupProjection.Apply(state, e);
            version = stored.Version;
        }
        if (state is null) return null;

        // Liveness newer than the stream (a later report) refreshes LSNs and report times.
        var liveness = await session.Query<NodeLiveness>().Where(l => l.StreamKey == key).ToListAsync(cancellationToken);
        foreach (var node in liveness)
        {
            if (node.LatestReport is { } report && state.Find(report.NodeId) is { } known && ReportOrder.IsAfterLast(known, report.Epoch, report.Sequence))
            {
                state = GroupProjection.Apply(state, report);
            }
        }
        return new LoadedGroup(key, state, version);
    }

    /// <summary>The stream's version in the store, or 0 when it does not exist.</summary>
    public async Task<long> StreamVersionAsync(string key, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var state = await session.Events.FetchStreamStateAsync(key, cancellationToken);
        return state?.Version ?? 0;
    }

    public async Task<IReadOnlyList<string>> GroupKeysAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<GroupSnapshot>().Select(s => s.Id).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Appends <paramref name="events"/> to a stream that must be at the version it was loaded at (<paramref name="before"/>)
    /// (0: must not exist yet), with the node directory following the events and the messages the decision publishes
    /// (<paramref name="outbox"/>) in the same transaction.
    /// Throws <see cref="GroupVersionConflict"/> when another writer got there first, <see cref="NodeDirectoryConflict"/>
    /// when another group took a name or address meanwhile.
    /// </summary>
    public async Task<long> AppendAsync(
        LoadedGroup before, IReadOnlyList<IGroupEvent> events, GroupState after, OutboxBatch? outbox, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        if (outbox is not null) session.Store(outbox);
        var data = events.Cast<object>().ToArray();
        if (before.Version == 0)
        {
            session.Events.StartStream(before.Key, data);
        }
        else
        {
            session.Events.Append(before.Key, data).ExpectedVersionOnServer = before.Version;
        }

        var version = before.Version + events.Count;
        if (before.Version == 0 || version / options.SnapshotEvery != before.Version / options.SnapshotEvery)
        {
            session.Store(new GroupSnapshot
            {
                Id = before.Key, Formation = after.Settings.Formation, GroupId = after.Settings.GroupId,
                Version = version, State = GroupStateJson.Serialize(after),
            });
            // A primary's every report renews its lease with an event (durable, so that every instance sees it):
            // one event a second per group. Once a snapshot holds their effect nobody reads the old ones (a load
            // starts after the snapshot; `show events` skips leases), so they go in the same transaction and the
            // stream keeps at most SnapshotEvery of them instead of growing by 86,400 a day.
            session.QueueSqlCommand(
                $"delete from {_events.DatabaseSchemaName}.mt_events where stream_id = ? and type = ? and version <= ?",
                before.Key, LeaseEventType, version);
        }
        // The node directory answers the monitor-wide look-ups (which group holds node N, which names and addresses
        // are taken): written with the group's events, so it holds a node exactly when the group does.
        foreach (var e in events)
        {
            if (e is NodeRemoved removed)
            {
                session.Delete<NodeRecord>(removed.NodeId);
                session.Delete<NodeLiveness>(removed.NodeId);
            }
            else if (((e as NodeJoined)?.NodeId ?? (e as NodeMetadataChanged)?.NodeId) is { } id && after.Find(id) is { } node)
            {
                session.Store(NodeRecord.Of(after, node));
            }
        }

        try
        {
            await session.SaveChangesAsync(cancellationToken);
        }
        catch (Exception e) when (e is JasperFx.Events.EventStreamUnexpectedMaxEventIdException
                                   or JasperFx.Events.ExistingStreamIdCollisionException
                                   or Marten.Exceptions.ExistingStreamIdCollisionException
                                   or ConcurrencyException)
        {
            throw new GroupVersionConflict(before.Key, before.Version, e);
        }
        catch (Exception e) when (NodeDirectoryConflict.From(e) is { } conflict)
        {
            throw conflict;
        }
        return version;
    }

    public async Task SaveLivenessAsync(IReadOnlyCollection<NodeLiveness> latest, CancellationToken cancellationToken)
    {
        if (latest.Count == 0) return;
        await using var session = store.LightweightSession();
        session.Store(latest.ToArray());
        await session.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Published batches: nothing left to relay.</summary>
    public async Task DeleteOutboxAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        foreach (var id in ids) session.Delete<OutboxBatch>(id);
        await session.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Batches stored before <paramref name="storedBefore"/> and not deleted: their monitor died before publishing them, or is slow.</summary>
    public async Task<IReadOnlyList<OutboxBatch>> PendingOutboxAsync(DateTimeOffset storedBefore, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var pending = await session.Query<OutboxBatch>().Where(b => b.StoredAt < storedBefore).ToListAsync(cancellationToken);
        return [.. pending.OrderBy(b => b.Stream, StringComparer.Ordinal).ThenBy(b => b.Version)];
    }
}

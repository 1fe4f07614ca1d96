using PgAutoFailover.ServiceDefaults;
using MassTransit;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.UriService.Topology;

/// <summary>
/// The one way snapshots enter the service (bus consumer and start-up request alike): apply to
/// the view, then publish ConnectionStringChanged when due. Serialised, so events leave in
/// version order. Idempotent: a redelivered snapshot finds nothing new to publish, and a
/// publish that failed is attempted again by the redelivery.
/// </summary>
public sealed partial class TopologyUpdater(
    TopologyView view,
    ConnectionStringTracker tracker,
    IBus bus,
    UriMetrics metrics,
    TimeProvider time,
    ILogger<TopologyUpdater> logger) : ITopologySink
{
    private readonly SemaphoreSlim _serial = new(1, 1);

    async Task ITopologySink.ApplyAsync(FormationTopologyChanged snapshot, CancellationToken cancellationToken) =>
        await ApplyAsync(snapshot, cancellationToken);

    public async Task<ApplyOutcome> ApplyAsync(FormationTopologyChanged snapshot, CancellationToken cancellationToken)
    {
        await _serial.WaitAsync(cancellationToken);
        try
        {
            var outcome = view.Apply(snapshot);
            metrics.Snapshots.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToString().ToLowerInvariant()));
            if (outcome == ApplyOutcome.Stale)
            {
                Log.StaleTopologyIgnored(logger, snapshot.Formation, snapshot.Version, view.Get(snapshot.Formation)?.Version);
                return outcome;
            }
            var current = view.Get(snapshot.Formation) ?? snapshot;
            if (tracker.Due(current, time.GetUtcNow()) is { } change)
            {
                await bus.Publish(change, cancellationToken);
                tracker.Commit(change);
                metrics.ConnectionStringChanges.Add(1);
                Log.ConnectionStringChanged(logger, change.Formation, change.ConnectionString, change.Primary?.NodeId, change.TopologyVersion);
            }
            return outcome;
        }
        finally
        {
            _serial.Release();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Ignored stale topology of {Formation}: version {Version} is older than the held {HeldVersion}")]
        public static partial void StaleTopologyIgnored(ILogger logger, string formation, long version, long? heldVersion);

        [LoggerMessage(Level = LogLevel.Information, Message = "Formation {Formation} connection string is now {ConnectionString} (primary node {PrimaryNodeId}, topology version {Version})")]
        public static partial void ConnectionStringChanged(ILogger logger, string formation, string connectionString, long? primaryNodeId, long version);
    }
}

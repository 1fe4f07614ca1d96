using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Publishes the events of decisions that were stored but never published: their monitor died between the commit
/// and the publish (docs/events.md#delivery). Once as soon as this monitor has started (a restarted monitor sends what
/// it left behind), then every <see cref="MonitorServiceOptions.OutboxRelayPeriod"/> for batches older than that
/// period (another live instance deletes its own long before). A batch is deleted once published; a copy published
/// twice (two instances relaying, or a crash before the delete) carries the same message ids.
/// </summary>
public sealed partial class OutboxRelay(
    GroupStore store, DecisionPublisher publisher, MonitorServiceOptions options, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<OutboxRelay> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // After the bus has started: publishing before would wait on it, or fail.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(started.SetResult)) await started.Task.WaitAsync(stoppingToken);
        await RelayAsync(time.GetUtcNow(), stoppingToken);
        using var timer = new PeriodicTimer(options.OutboxRelayPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await RelayAsync(time.GetUtcNow() - options.OutboxRelayPeriod, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Publishes and deletes every batch stored before <paramref name="storedBefore"/>, in stream order.</summary>
    public async Task RelayAsync(DateTimeOffset storedBefore, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var batch in await store.PendingOutboxAsync(storedBefore, cancellationToken))
            {
                await publisher.PublishEventsAsync(DecisionMessages.FromBatch(batch), cancellationToken);
                await store.DeleteOutboxAsync([batch.Id], cancellationToken);
                Log.Relayed(logger, batch.Messages.Count, batch.Stream, batch.Version, batch.StoredAt);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store or the broker is away: the batches stay, the next period tries again.
            Log.RelayFailed(logger, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Published {Count} stored event(s) of {Group} at version {Version}, stored at {StoredAt:O} and never published")]
        public static partial void Relayed(ILogger logger, int count, string group, long version, DateTimeOffset storedAt);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not relay stored events yet: {Error}")]
        public static partial void RelayFailed(ILogger logger, string error);
    }
}

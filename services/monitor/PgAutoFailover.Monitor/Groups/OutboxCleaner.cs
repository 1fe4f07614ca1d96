using System.Threading.Channels;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Deletes the outbox batches of published decisions in the background, many in one round trip: the delete is off the
/// group's path, so the next step of a failover does not wait for it. A batch whose delete is lost (a crash) is
/// published again by <see cref="OutboxRelay"/> with the same message ids (docs/events.md#delivery).
/// </summary>
public sealed partial class OutboxCleaner(GroupStore store, ILogger<OutboxCleaner> logger) : BackgroundService
{
    private readonly Channel<string> _published = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The batch <paramref name="id"/> was published: delete it soon.</summary>
    public void Published(string id) => _published.Writer.TryWrite(id);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _published.Reader.WaitToReadAsync(stoppingToken)) await DeleteWaitingAsync(CancellationToken.None);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await DeleteWaitingAsync(CancellationToken.None); // on a clean stop nothing is left to relay
    }

    private async Task DeleteWaitingAsync(CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        while (ids.Count < 500 && _published.Reader.TryRead(out var id)) ids.Add(id);
        if (ids.Count == 0) return;
        try
        {
            await store.DeleteOutboxAsync(ids, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Left for the relay: published again, with the same ids.
            Log.DeleteFailed(logger, ids.Count, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete {Count} published outbox batch(es); the relay publishes them again: {Error}")]
        public static partial void DeleteFailed(ILogger logger, int count, string error);
    }
}

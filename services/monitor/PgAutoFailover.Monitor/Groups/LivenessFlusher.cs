using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>Writes the buffered liveness of every node to the store once per flush period.</summary>
public sealed class LivenessFlusher(
    LivenessBuffer buffer, GroupStore store, MonitorServiceOptions options, TimeProvider time, ILogger<LivenessFlusher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.LivenessFlushPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await FlushAsync(CancellationToken.None);
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.SaveLivenessAsync(buffer.Drain(), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not write node liveness to the monitor store; the next flush carries newer values");
        }
    }
}

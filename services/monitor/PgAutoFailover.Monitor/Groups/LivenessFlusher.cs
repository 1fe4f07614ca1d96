using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>Writes the buffered liveness of every node to the store once per flush period.</summary>
public sealed partial class LivenessFlusher(
    LivenessBuffer buffer, GroupStore store, MonitorServiceOptions options, TimeProvider time, ILogger<LivenessFlusher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.LivenessFlushPeriod, time);
        try
        {
            // Only the wait is cancelled on stop, never a save: the drained values of a save cut short would be
            // gone (the final flush below finds an empty buffer), and with them a node's last error across a restart.
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync(CancellationToken.None);
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
            Log.LivenessNotWritten(logger, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write node liveness to the monitor store; the next flush carries newer values")]
        public static partial void LivenessNotWritten(ILogger logger, Exception exception);
    }
}

using PgAutoFailover.Monitor.Core;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Re-evaluates every group of the partitions this instance holds on a timer, so timeouts act (a silent keeper, an
/// expired lease, a demote timeout) even when no keeper reports: a dead group still fails over. The groups of other
/// partitions are their holder's to evaluate (docs/architecture.md#groups-spread-over-monitors).
/// </summary>
public sealed partial class GroupTimer(
    GroupCoordinator groups, PartitionOwner partitions, MonitorServiceOptions options, TimeProvider time, ILogger<GroupTimer> logger)
    : BackgroundService
{
    private const int ParallelGroups = 8;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.TimerPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Groups are independent: evaluate several at once, so a thousand groups fit in one period.
                await Parallel.ForEachAsync(groups.Current.Select(g => g.Key).Where(partitions.Holds).ToList(),
                    new ParallelOptions { MaxDegreeOfParallelism = ParallelGroups, CancellationToken = stoppingToken },
                    async (key, ct) => await TickAsync(key, ct));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task TickAsync(string key, CancellationToken stoppingToken)
    {
        try
        {
            await groups.DecideAsync(key, _ => new TimerTrigger(), stoppingToken, verifyStreamVersion: false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store or the broker may be down: the next tick tries again.
            Log.TimerEvaluationGroupFailed(logger, e, key);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Timer evaluation of group {Group} failed")]
        public static partial void TimerEvaluationGroupFailed(ILogger logger, Exception exception, string group);
    }
}

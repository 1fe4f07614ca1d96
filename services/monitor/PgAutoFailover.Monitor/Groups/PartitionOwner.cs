using System.Collections.Concurrent;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Partitions;
using PgAutoFailover.Monitor.Messaging;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Holds this instance's share of the partitions (docs/architecture.md#groups-spread-over-monitors): every renew period
/// it renews its holds in the store, lets go of what the live instances' count says is more than its share, takes free
/// partitions up to its share, and connects or stops their endpoints to match. The timer evaluates only the groups of
/// held partitions. Letting go stops the endpoint first, so a partition has one consumer at a time except while an
/// instance hangs; then two decide on its groups through the stream's optimistic concurrency, as any two instances may.
/// </summary>
public sealed partial class PartitionOwner(
    PartitionLeases leases,
    PartitionEndpoints endpoints,
    GroupCoordinator groups,
    MonitorServiceOptions options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<PartitionOwner> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<int, bool> _held = new();
    private string? _lastProblem;
    private bool _first = true;

    /// <summary>Whether this instance holds the partition of the group whose stream is <paramref name="groupKey"/>.</summary>
    public bool Holds(string groupKey) => _held.ContainsKey(GroupStream.Partition(groupKey));

    /// <summary>The partitions this instance holds, in order.</summary>
    public IReadOnlyList<int> Held => [.. _held.Keys.Order()];

    /// <summary>When the holds were last renewed; null before the first renewal.</summary>
    public DateTimeOffset? LastRenewedAt { get; private set; }

    /// <summary>Why the last renewal failed; null once one succeeded.</summary>
    public string? LastProblem => _lastProblem;

    /// <summary>This instance's name in the store's partition table.</summary>
    public string InstanceId => leases.InstanceId;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // After the bus has started: endpoints are connected to a running bus.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(started.SetResult)) await started.Task.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.PartitionRenewPeriod, time);
        try
        {
            do
            {
                await RebalanceAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>On a clean stop the partitions are let go at once, not one lease later.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var held = Held;
        try
        {
            foreach (var partition in held) await endpoints.StopAsync(partition, cancellationToken);
            _held.Clear();
            await leases.ReleaseAsync(held, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.ReleaseOnStopFailed(logger, e.Message);
        }
        await leases.DisposeAsync();
    }

    private async Task RebalanceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await endpoints.DeclareRoutingAsync(cancellationToken);
            var (live, renewed) = await leases.RenewAsync(cancellationToken);
            foreach (var lost in _held.Keys.Except(renewed).ToList())
            {
                // Another instance took it (this one hung, or its store session broke): stop competing for it.
                await endpoints.StopAsync(lost, cancellationToken);
                _held.TryRemove(lost, out _);
                Log.PartitionLost(logger, lost);
            }
            var plan = PartitionShare.Plan(renewed, MonitorPartitions.Count, live);
            foreach (var partition in plan.Release)
            {
                await endpoints.StopAsync(partition, cancellationToken);
                _held.TryRemove(partition, out _);
            }
            await leases.ReleaseAsync(plan.Release, cancellationToken);
            var taken = plan.Take > 0 ? await leases.TakeAsync(plan.Take, cancellationToken) : [];
            foreach (var partition in taken)
            {
                // Groups this instance loaded before another held them may be behind: read them again at their next
                // message. Not at the first take, right after the start-up load.
                if (!_first) groups.MarkStale(key => GroupStream.Partition(key) == partition);
                _held[partition] = true;
            }
            // Every held partition gets its endpoint, also one whose start failed before (the broker was away).
            foreach (var partition in _held.Keys.Order()) await endpoints.StartAsync(partition, cancellationToken);
            if (plan.Release.Count > 0 || taken.Count > 0)
            {
                Log.Rebalanced(logger, live, string.Join(",", Held), string.Join(",", plan.Release), string.Join(",", taken));
            }
            if (taken.Count > 0 && !_first) _ = LoadTakenAsync(taken);
            _first = false;
            _lastProblem = null;
            LastRenewedAt = time.GetUtcNow();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store or the broker is away: the partitions held keep their endpoints; the next renewal tries again.
            if (_lastProblem != e.Message) Log.RebalanceFailed(logger, e.Message);
            _lastProblem = e.Message;
        }
    }

    /// <summary>Reads the groups of partitions just taken, so the timer evaluates them before any message of theirs arrives.</summary>
    private async Task LoadTakenAsync(IReadOnlyList<int> partitions)
    {
        try
        {
            await groups.LoadAsync(key => partitions.Contains(GroupStream.Partition(key)), lifetime.ApplicationStopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.LoadFailed(logger, string.Join(",", partitions), e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Partitions: {Live} live monitor(s); holding {Held}; let go {Released}; took {Taken}")]
        public static partial void Rebalanced(ILogger logger, int live, string held, string released, string taken);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Partition {Partition} was taken by another monitor: no longer consuming it")]
        public static partial void PartitionLost(ILogger logger, int partition);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew or rebalance the partitions: {Error}")]
        public static partial void RebalanceFailed(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not let the partitions go on stop (the others take them one lease later): {Error}")]
        public static partial void ReleaseOnStopFailed(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not load the groups of partitions {Partitions}: {Error}")]
        public static partial void LoadFailed(ILogger logger, string partitions, string error);
    }
}

using System.Collections.Concurrent;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Partitions;
using PgAutoFailover.Monitor.Messaging;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Holds this instance's share of the partitions (docs/architecture.md#groups-spread-over-monitors): every renew period
/// it renews its holds in the store, marks what the live instances' count says is more than its share for letting go,
/// and takes free partitions up to its share. A second loop connects and stops the endpoints to match, and only then
/// lets a surplus partition go, so a partition has one consumer at a time except while an instance hangs; then two
/// decide on its groups through the stream's optimistic concurrency, as any two instances may. The two loops are apart
/// because starting or stopping an endpoint can take seconds on a loaded machine (a stop waits for the messages being
/// handled): renewals waiting behind them ran past the lease, and the instances took each other's partitions in turn.
/// The timer evaluates only the groups of held partitions.
/// </summary>
public sealed partial class PartitionOwner(
    PartitionLeases leases,
    PartitionEndpoints endpoints,
    GroupCoordinator groups,
    SoleHolder soleHolder,
    MonitorServiceOptions options,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<PartitionOwner> logger) : BackgroundService
{
    // Held and this instance's to work on; being let go (endpoint stopping, lease still renewed); stopped, to let go.
    private readonly ConcurrentDictionary<int, bool> _held = new();
    private readonly ConcurrentDictionary<int, bool> _releasing = new();
    private readonly ConcurrentQueue<int> _stopped = new();
    private readonly SemaphoreSlim _changed = new(0);
    private string? _lastProblem;
    private string? _lastEndpointProblem;
    private bool _first = true;

    /// <summary>Whether this instance holds the partition of the group whose stream is <paramref name="groupKey"/>.</summary>
    public bool Holds(string groupKey) => _held.ContainsKey(GroupStream.Partition(groupKey));

    /// <summary>The partitions this instance holds and consumes (their endpoints ready), in order.</summary>
    public IReadOnlyList<int> Held => [.. _held.Keys.Where(endpoints.IsConsuming).Order()];

    /// <summary>When the holds were last renewed; null before the first renewal.</summary>
    public DateTimeOffset? LastRenewedAt { get; private set; }

    /// <summary>Why the last renewal failed; null once one succeeded.</summary>
    public string? LastProblem => _lastProblem;

    /// <summary>Whether the exchange routing reports and probes to the partitions' queues has been declared.</summary>
    public bool RoutingDeclared => endpoints.RoutingDeclared;

    /// <summary>This instance's name in the store's partition table.</summary>
    public string InstanceId => leases.InstanceId;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // After the bus has started: endpoints are connected to a running bus.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(started.SetResult)) await started.Task.WaitAsync(stoppingToken);
        var matching = Task.Run(() => MatchEndpointsAsync(stoppingToken), CancellationToken.None);
        using var timer = new PeriodicTimer(options.PartitionRenewPeriod, time);
        try
        {
            do
            {
                await RenewAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await matching;
    }

    /// <summary>On a clean stop the partitions are let go at once, not one lease later.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        soleHolder.Forget();
        var held = _held.Keys.Concat(_releasing.Keys).Concat(_stopped).Distinct().ToList();
        try
        {
            foreach (var partition in endpoints.Connected) await endpoints.StopAsync(partition, cancellationToken);
            _held.Clear();
            await leases.ReleaseAsync(held, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.ReleaseOnStopFailed(logger, e.Message);
        }
        await leases.DisposeAsync();
    }

    /// <summary>One renewal: holds renewed, lost ones dropped, the surplus marked to go, free ones taken.</summary>
    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        try
        {
            var stopped = new List<int>();
            while (_stopped.TryDequeue(out var partition)) stopped.Add(partition);
            try
            {
                await leases.ReleaseAsync(stopped, cancellationToken);
            }
            catch
            {
                foreach (var partition in stopped) _stopped.Enqueue(partition);
                throw;
            }
            var startedAt = time.GetTimestamp();
            var (live, renewed) = await leases.RenewAsync(cancellationToken);
            var changed = false;
            foreach (var lost in _held.Keys.Concat(_releasing.Keys).Except(renewed).ToList())
            {
                // Another instance took it (this one hung, or its store session broke): stop competing for it.
                if (_held.TryRemove(lost, out _)) Log.PartitionLost(logger, lost);
                _releasing.TryRemove(lost, out _);
                changed = true;
            }
            // What this instance counts as its own: renewed and not being let go. (Not "renewed but not releasing": a
            // surplus partition whose endpoint stopped after this renewal began is in neither set, and counted as held
            // it made the plan let go of one more.)
            var plan = PartitionShare.Plan([.. renewed.Where(_held.ContainsKey)], MonitorPartitions.Count, live);
            foreach (var partition in plan.Release)
            {
                _held.TryRemove(partition, out _);
                _releasing[partition] = true;
                changed = true;
            }
            var taken = plan.Take > 0 ? await leases.TakeAsync(plan.Take, cancellationToken) : [];
            foreach (var partition in taken)
            {
                // Groups this instance loaded before another held them may be behind: read them again at their next
                // message. Not at the first take, right after the start-up load.
                if (!_first) groups.MarkStale(key => GroupStream.Partition(key) == partition);
                _held[partition] = true;
                changed = true;
            }
            if (plan.Release.Count > 0 || taken.Count > 0)
            {
                Log.Rebalanced(logger, live, string.Join(",", _held.Keys.Order()), string.Join(",", plan.Release), string.Join(",", taken));
            }
            if (taken.Count > 0 && !_first) _ = LoadTakenAsync(taken);
            soleHolder.Renewed(startedAt, live, _held.Keys);
            if (changed) _changed.Release();
            _first = false;
            _lastProblem = null;
            LastRenewedAt = time.GetUtcNow();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store is away: the partitions held keep their endpoints; the next renewal tries again.
            if (_lastProblem != e.Message) Log.RebalanceFailed(logger, e.Message);
            _lastProblem = e.Message;
        }
    }

    /// <summary>
    /// Connects the endpoints of held partitions and stops the others, when the holds change and every renew period (a
    /// start that failed, the broker away, is tried again). A surplus partition whose endpoint stopped goes to the
    /// renewal loop to be let go.
    /// </summary>
    private async Task MatchEndpointsAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // First of all, before any hold: what keepers publish reaches the partitions' queues from now on.
                await endpoints.DeclareRoutingAsync(stoppingToken);
                foreach (var partition in endpoints.Connected.Where(p => !_held.ContainsKey(p)).ToList())
                {
                    await endpoints.StopAsync(partition, stoppingToken);
                    if (_releasing.TryRemove(partition, out _)) _stopped.Enqueue(partition);
                }
                foreach (var partition in _releasing.Keys.Where(p => !endpoints.Connected.Contains(p)).ToList())
                {
                    if (_releasing.TryRemove(partition, out _)) _stopped.Enqueue(partition);
                }
                await endpoints.StartAsync(_held.Keys.Order().ToList(), stoppingToken);
                _lastEndpointProblem = null;
                await _changed.WaitAsync(options.PartitionRenewPeriod, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The broker is away: the next pass tries again.
                if (_lastEndpointProblem != e.Message) Log.EndpointsFailed(logger, e.Message);
                _lastEndpointProblem = e.Message;
                try { await Task.Delay(options.PartitionRenewPeriod, time, stoppingToken); } catch (OperationCanceledException) { return; }
            }
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

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not connect or stop the partitions' endpoints: {Error}")]
        public static partial void EndpointsFailed(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not let the partitions go on stop (the others take them one lease later): {Error}")]
        public static partial void ReleaseOnStopFailed(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not load the groups of partitions {Partitions}: {Error}")]
        public static partial void LoadFailed(ILogger logger, string partitions, string error);
    }
}

using Microsoft.Extensions.Options;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>
/// Probes every target on its own schedule: each node gets a loop that starts at a random
/// offset within the period (so 1,000 nodes spread over the second instead of starting together)
/// and then keeps a fixed cadence. A global semaphore bounds the probes in flight. A probe that
/// starts late or runs past its next due time is an overrun: the missed periods are skipped (the
/// schedule never bunches up to catch up), counted in a metric and summed up in the log.
/// </summary>
public sealed partial class ProbeScheduler(
    ProbeTargets targets,
    PostgresProbe probe,
    IProbeSink sink,
    ProbeMetrics metrics,
    IOptions<HealthCheckerOptions> options,
    TimeProvider time,
    ILogger<ProbeScheduler> logger)
{
    private readonly Dictionary<long, (CancellationTokenSource Stop, Task Loop)> _loops = [];
    private SemaphoreSlim _slots = null!;
    private long _overruns;
    private long _failedPublishes;

    public int ActiveLoops => _loops.Count;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        _slots = new SemaphoreSlim(Math.Max(1, settings.MaxConcurrentProbes));
        // Monotonic time throughout: a step of the wall clock must not stall or bunch the loops.
        var origin = time.GetTimestamp();
        var nextReport = settings.OverrunReportPeriod;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var changed = targets.WhenChanged;
                Reconcile(stoppingToken);
                var untilReport = nextReport - time.GetElapsedTime(origin);
                if (untilReport <= TimeSpan.Zero)
                {
                    ReportOverruns(settings);
                    nextReport = time.GetElapsedTime(origin) + settings.OverrunReportPeriod;
                    continue;
                }
                await Task.WhenAny(changed, Task.Delay(untilReport, time, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var (stop, _) in _loops.Values) await stop.CancelAsync();
            await Task.WhenAll(_loops.Values.Select(l => l.Loop));
            foreach (var (stop, _) in _loops.Values) stop.Dispose();
            _loops.Clear();
        }
    }

    /// <summary>A loop for each new target; removed targets' loops are stopped.</summary>
    private void Reconcile(CancellationToken stoppingToken)
    {
        var current = targets.Current;
        foreach (var (nodeId, entry) in _loops.Where(l => !current.ContainsKey(l.Key) || l.Value.Loop.IsCompleted).ToList())
        {
            entry.Stop.Cancel();
            // Disposed once the loop has seen the cancellation, never under its feet.
            entry.Loop.ContinueWith(_ => entry.Stop.Dispose(), TaskScheduler.Default);
            _loops.Remove(nodeId);
        }
        foreach (var nodeId in current.Keys.Where(id => !_loops.ContainsKey(id)))
        {
            var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            _loops[nodeId] = (stop, Task.Run(() => RunNodeAsync(nodeId, stop.Token), CancellationToken.None));
        }
    }

    private async Task RunNodeAsync(long nodeId, CancellationToken stop)
    {
        var settings = options.Value;
        var period = settings.ProbePeriod;
        var history = new ProbeHistory(settings.ConfirmEvery);
        var origin = time.GetTimestamp();
        var due = period * Random.Shared.NextDouble();
        var failures = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var wait = due - time.GetElapsedTime(origin);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, time, stop);
                if (!targets.TryGet(nodeId, out var node)) return;

                await _slots.WaitAsync(stop);
                NodeProbed result;
                var probedAt = time.GetUtcNow();
                try
                {
                    metrics.StartLag.Record(Math.Max(0, (time.GetElapsedTime(origin) - due).TotalSeconds));
                    result = await probe.ProbeAsync(node, stop);
                }
                finally
                {
                    _slots.Release();
                }
                Record(result);
                LogTransition(result, failures);
                failures = result.Succeeded ? 0 : failures + 1;
                if (history.Next(result) is { } message)
                {
                    // A span per published result (not per probe): the root of a failover's trace when the
                    // monitor takes this failure as the one that condemned a primary (docs/architecture.md#traces).
                    using var activity = ProbeTracing.Start(message, probedAt);
                    await PublishAsync(history, message, period, stop);
                }

                if (!result.Succeeded && time.GetElapsedTime(origin) <= due + period)
                {
                    // A failing node is probed again soon (HealthCheckerOptions.FailingProbePeriod), so the monitor
                    // counts its consecutive failures in a fraction of a second. A probe that outlasted the recheck
                    // interval but not the period is followed at once; one that outlasted the period is an overrun below.
                    due = Max(due + (settings.FailingProbePeriod < period ? settings.FailingProbePeriod : period), time.GetElapsedTime(origin));
                    continue;
                }
                due += period;
                var late = time.GetElapsedTime(origin) - due;
                if (late > TimeSpan.Zero)
                {
                    var missed = 1 + (long)(late / period);
                    due += period * missed;
                    metrics.Overruns.Add(missed);
                    Interlocked.Add(ref _overruns, missed);
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopping (the node left the topology, or the service stops): whatever was in flight is moot.
        }
        catch (Exception e)
        {
            // Never expected; the next reconciliation starts a fresh loop for the node.
            Log.ProbeLoopNodeFailed(logger, e, nodeId);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>One line when a node becomes unreachable, every 60 failures while it stays so, and one when it is back.</summary>
    private void LogTransition(NodeProbed result, int previousFailures)
    {
        var node = result.Node;
        if (result.Succeeded)
        {
            if (previousFailures > 0)
            {
                Log.NodeReachableAgain(logger, node.NodeId, node.Formation, node.GroupId, node.Host, node.Port, previousFailures);
            }
        }
        else if (previousFailures % 60 == 0)
        {
            Log.ProbeFailed(logger, node.NodeId, node.Formation, node.GroupId, node.Host, node.Port, previousFailures + 1, result.Error);
        }
    }

    private void Record(NodeProbed result)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", result.Succeeded ? "ok" : "failed");
        metrics.Probes.Add(1, outcome);
        metrics.Duration.Record(result.Latency.TotalSeconds, outcome);
        if (!result.Succeeded) metrics.Failures.Add(1);
    }

    private async Task PublishAsync(ProbeHistory history, NodeProbed message, TimeSpan period, CancellationToken stop)
    {
        // A broker outage must not stall the schedule: give up after one period, publish again next time.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(period);
        try
        {
            await sink.PublishAsync(message, timeout.Token);
            metrics.Published.Add(1);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            history.PublishFailed();
            if (Interlocked.Increment(ref _failedPublishes) % 100 == 1)
            {
                Log.ProbeNotPublished(logger, e, message.Node.NodeId, Interlocked.Read(ref _failedPublishes));
            }
        }
    }

    private void ReportOverruns(HealthCheckerOptions settings)
    {
        var overruns = Interlocked.Exchange(ref _overruns, 0);
        if (overruns == 0) return;
        Log.ProbePeriodsMissed(logger, overruns, settings.OverrunReportPeriod, _loops.Count, settings.ProbePeriod, settings.MaxConcurrentProbes);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Probe loop of node {NodeId} failed")]
        public static partial void ProbeLoopNodeFailed(ILogger logger, Exception exception, long nodeId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} ({Formation}/{GroupId}) at {Host}:{Port} is reachable again after {Failures} failed probes")]
        public static partial void NodeReachableAgain(ILogger logger, long nodeId, string formation, int groupId, string host, int port, int failures);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Probe of node {NodeId} ({Formation}/{GroupId}) at {Host}:{Port} failed ({Failures} in a row): {Error}")]
        public static partial void ProbeFailed(ILogger logger, long nodeId, string formation, int groupId, string host, int port, int failures, string? error);

        [LoggerMessage(Level = LogLevel.Error, Message = "Could not publish the probe of node {NodeId} ({FailedPublishes} failed publishes so far)")]
        public static partial void ProbeNotPublished(ILogger logger, Exception exception, long nodeId, long failedPublishes);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Overruns} probe periods were missed in the last {ReportPeriod} over {Targets} targets: probes take longer than {ProbePeriod} or wait for one of {MaxConcurrentProbes} slots")]
        public static partial void ProbePeriodsMissed(ILogger logger, long overruns, TimeSpan reportPeriod, int targets, TimeSpan probePeriod, int maxConcurrentProbes);
    }
}

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
public sealed class ProbeScheduler(
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
        var nextReport = time.GetUtcNow() + settings.OverrunReportPeriod;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var changed = targets.WhenChanged;
                Reconcile(stoppingToken);
                var untilReport = nextReport - time.GetUtcNow();
                if (untilReport <= TimeSpan.Zero)
                {
                    ReportOverruns(settings);
                    nextReport = time.GetUtcNow() + settings.OverrunReportPeriod;
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
            entry.Stop.Dispose();
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
        var due = time.GetUtcNow() + period * Random.Shared.NextDouble();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var wait = due - time.GetUtcNow();
                if (wait > TimeSpan.Zero) await Task.Delay(wait, time, stop);
                if (!targets.TryGet(nodeId, out var node)) return;

                await _slots.WaitAsync(stop);
                NodeProbed result;
                try
                {
                    metrics.StartLag.Record(Math.Max(0, (time.GetUtcNow() - due).TotalSeconds));
                    result = await probe.ProbeAsync(node, stop);
                }
                finally
                {
                    _slots.Release();
                }
                Record(result);
                if (history.Next(result) is { } message) await PublishAsync(history, message, period, stop);

                due += period;
                var late = time.GetUtcNow() - due;
                if (late > TimeSpan.Zero)
                {
                    var missed = 1 + (long)(late / period);
                    due += period * missed;
                    metrics.Overruns.Add(missed);
                    Interlocked.Add(ref _overruns, missed);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Never expected; the next reconciliation starts a fresh loop for the node.
            logger.LogError(e, "Probe loop of node {NodeId} failed", nodeId);
        }
    }

    private void Record(NodeProbed result)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", result.Succeeded ? "ok" : "failed");
        metrics.Probes.Add(1, outcome);
        metrics.Duration.Record(result.Latency.TotalSeconds, outcome);
        if (result.Succeeded) return;
        metrics.Failures.Add(1);
        logger.LogWarning("Probe of node {NodeId} ({Formation}/{GroupId}) at {Host}:{Port} failed: {Error}",
            result.Node.NodeId, result.Node.Formation, result.Node.GroupId, result.Node.Host, result.Node.Port, result.Error);
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
                logger.LogError(e, "Could not publish the probe of node {NodeId} ({FailedPublishes} failed publishes so far)",
                    message.Node.NodeId, Interlocked.Read(ref _failedPublishes));
            }
        }
    }

    private void ReportOverruns(HealthCheckerOptions settings)
    {
        var overruns = Interlocked.Exchange(ref _overruns, 0);
        if (overruns == 0) return;
        logger.LogWarning("{Overruns} probe periods were missed in the last {ReportPeriod} over {Targets} targets: probes take longer than {ProbePeriod} or wait for one of {MaxConcurrentProbes} slots",
            overruns, settings.OverrunReportPeriod, _loops.Count, settings.ProbePeriod, settings.MaxConcurrentProbes);
    }
}

using MassTransit;
using Microsoft.Extensions.Options;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>Every probe period, probes every known node concurrently and publishes each result.</summary>
public sealed class ProbeScheduler(
    ProbeTargets targets,
    PostgresProbe probe,
    IPublishEndpoint publisher,
    IOptions<HealthCheckerOptions> options,
    TimeProvider time,
    ILogger<ProbeScheduler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ProbePeriod, time);
        do
        {
            await Task.WhenAll(targets.Current.Select(node => ProbeAndPublishAsync(node, stoppingToken)));
        }
        while (await WaitForNextTickAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitForNextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try { return await timer.WaitForNextTickAsync(stoppingToken); }
        catch (OperationCanceledException) { return false; }
    }

    private async Task ProbeAndPublishAsync(Contracts.NodeAddress node, CancellationToken stoppingToken)
    {
        try
        {
            var result = await probe.ProbeAsync(node, stoppingToken);
            if (!result.Succeeded)
            {
                logger.LogWarning("Probe of node {NodeId} at {Host}:{Port} failed: {Error}", node.NodeId, node.Host, node.Port, result.Error);
            }
            await publisher.Publish(result, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A broker outage must not stop the schedule: the next period tries again.
            logger.LogError(e, "Could not publish the probe of node {NodeId}", node.NodeId);
        }
    }
}

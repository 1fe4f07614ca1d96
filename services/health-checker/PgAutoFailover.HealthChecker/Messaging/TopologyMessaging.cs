using MassTransit;
using Microsoft.Extensions.Options;
using PgAutoFailover.Contracts;
using PgAutoFailover.HealthChecker.Probing;

namespace PgAutoFailover.HealthChecker.Messaging;

/// <summary>Every FormationTopologyChanged, on this checker's own queue: each checker probes every node.</summary>
public sealed class FormationTopologyChangedConsumer(ProbeTargets targets, ILogger<FormationTopologyChangedConsumer> logger)
    : IConsumer<FormationTopologyChanged>
{
    public Task Consume(ConsumeContext<FormationTopologyChanged> context)
    {
        var snapshot = context.Message;
        if (targets.Apply(snapshot))
        {
            logger.LogInformation("Probing {NodeCount} nodes of {Formation} (topology version {Version})",
                snapshot.Nodes.Count(n => n.GoalState != NodeState.Dropped), snapshot.Formation, snapshot.Version);
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// Asks the monitor for every formation's topology at start, in the background, again with a
/// doubling delay while no monitor answers (start-up neither waits nor fails), then every
/// <see cref="HealthCheckerOptions.TopologyRefreshPeriod"/>.
/// </summary>
public sealed class TopologyBootstrap(
    IBus bus,
    ProbeTargets targets,
    IOptions<HealthCheckerOptions> options,
    TimeProvider time,
    ILogger<TopologyBootstrap> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var delay = settings.TopologyRetryDelay;
        var client = bus.CreateRequestClient<GetTopology>(RequestTimeout.After(ms: (int)settings.TopologyRequestTimeout.TotalMilliseconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var response = await client.GetResponse<TopologySnapshot>(new GetTopology($"health-checker/{settings.CheckerId}"), stoppingToken);
                foreach (var formation in response.Message.Formations) targets.Apply(formation);
                logger.LogInformation("Received the topology of {FormationCount} formations: {NodeCount} nodes to probe",
                    response.Message.Formations.Count, targets.Current.Count);
                delay = settings.TopologyRetryDelay;
                if (settings.TopologyRefreshPeriod <= TimeSpan.Zero) return;
                await Task.Delay(settings.TopologyRefreshPeriod, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // No monitor, no broker, or anything else: never crash the host, ask again later.
                logger.LogWarning("No topology from the monitor ({Reason}); asking again in {RetryDelay}", e.Message, delay);
                try { await Task.Delay(delay, time, stoppingToken); }
                catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, settings.TopologyRetryMaxDelay.Ticks));
            }
        }
    }
}

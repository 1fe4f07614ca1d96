using MassTransit;
using Microsoft.Extensions.Options;
using PgAutoFailover.Contracts;
using PgAutoFailover.UriService.Topology;

namespace PgAutoFailover.UriService.Messaging;

/// <summary>
/// Asks the monitor for every formation's topology at start, in the background: when no monitor
/// answers it tries again with a doubling delay, and start-up neither waits nor fails. After a
/// first answer it asks again every <see cref="UriServiceOptions.TopologyRefreshPeriod"/>.
/// </summary>
public sealed class TopologyBootstrap(
    IBus bus,
    TopologyUpdater updater,
    IOptions<UriServiceOptions> options,
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
                var response = await client.GetResponse<TopologySnapshot>(new GetTopology($"uri-service/{settings.InstanceId}"), stoppingToken);
                foreach (var formation in response.Message.Formations) await updater.ApplyAsync(formation, stoppingToken);
                logger.LogInformation("Received the topology of {FormationCount} formations from the monitor", response.Message.Formations.Count);
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

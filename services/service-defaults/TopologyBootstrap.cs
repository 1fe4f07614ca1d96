using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>Whoever keeps a view of the formations' topology (the health-checker's targets, the uri-service's view).</summary>
public interface ITopologySink
{
    Task ApplyAsync(FormationTopologyChanged snapshot, CancellationToken cancellationToken);
}

/// <summary>How a service asks the monitor for the topology at start and afterwards.</summary>
/// <param name="RequestedBy">Name of the asking instance, for the monitor's logs.</param>
/// <param name="RequestTimeout">How long one GetTopology waits for the monitor.</param>
/// <param name="RetryDelay">First delay before asking again when nobody answered; doubles up to <paramref name="RetryMaxDelay"/>.</param>
/// <param name="RetryMaxDelay">Longest delay between two unanswered requests.</param>
/// <param name="RefreshPeriod">After an answer, ask again this often in case a FormationTopologyChanged was missed; zero: never.</param>
public sealed record TopologyRequestOptions(string RequestedBy, TimeSpan RequestTimeout, TimeSpan RetryDelay, TimeSpan RetryMaxDelay, TimeSpan RefreshPeriod);

/// <summary>
/// Asks the monitor for every formation's topology at start, in the background: when no monitor answers
/// it tries again with a doubling delay, so start-up neither waits nor fails; after an answer it asks
/// again every refresh period.
/// </summary>
public sealed partial class TopologyBootstrap(
    IBus bus, ITopologySink sink, TopologyRequestOptions options, TimeProvider time, ILogger<TopologyBootstrap> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = options.RetryDelay;
        var client = bus.CreateRequestClient<GetTopology>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var response = await client.GetResponseWithin<GetTopology, TopologySnapshot>(new GetTopology(options.RequestedBy), options.RequestTimeout, stoppingToken);
                foreach (var formation in response.Message.Formations) await sink.ApplyAsync(formation, stoppingToken);
                Log.TopologyReceived(logger, response.Message.Formations.Count);
                delay = options.RetryDelay;
                if (options.RefreshPeriod <= TimeSpan.Zero) return;
                await Task.Delay(options.RefreshPeriod, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // No monitor, no broker, or anything else: never crash the host, ask again later.
                Log.TopologyNotReceived(logger, e.Message, delay);
                try { await Task.Delay(delay, time, stoppingToken); }
                catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.RetryMaxDelay.Ticks));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Received the topology of {FormationCount} formations from the monitor")]
        public static partial void TopologyReceived(ILogger logger, int formationCount);

        [LoggerMessage(Level = LogLevel.Warning, Message = "No topology from the monitor ({Reason}); asking again in {RetryDelay}")]
        public static partial void TopologyNotReceived(ILogger logger, string reason, TimeSpan retryDelay);
    }
}

public static class TopologyBootstrapExtensions
{
    /// <summary>Runs <see cref="TopologyBootstrap"/> feeding <typeparamref name="TSink"/> (registered as a singleton elsewhere).</summary>
    public static IServiceCollection AddTopologyBootstrap<TSink>(this IServiceCollection services, Func<IServiceProvider, TopologyRequestOptions> options)
        where TSink : class, ITopologySink
    {
        services.AddSingleton<ITopologySink>(sp => sp.GetRequiredService<TSink>());
        services.AddHostedService(sp => new TopologyBootstrap(sp.GetRequiredService<IBus>(), sp.GetRequiredService<ITopologySink>(),
            options(sp), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<TopologyBootstrap>>()));
        return services;
    }
}

using MassTransit;
using PgAutoFailover.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PgAutoFailover.ServiceDefaults;

public static partial class BusExtensions
{
    /// <summary>
    /// MassTransit over RabbitMQ with kebab-case endpoint names. The caller registers its
    /// consumers and request clients in <paramref name="configure"/>; <paramref name="configureBus"/> adds what
    /// every receive endpoint shares (filters), before the endpoints are configured. <paramref name="service"/> (one of
    /// <see cref="BrokerNames"/>' tags) names the process's reply queue, which its broker user's permissions name.
    /// </summary>
    public static IHostApplicationBuilder AddPgAutoFailoverBus(
        this IHostApplicationBuilder builder,
        string service,
        Action<IBusRegistrationConfigurator> configure,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configureBus = null)
    {
        var options = ReadBusOptions(builder.Configuration);
        BrokerNodes nodes;
        try
        {
            nodes = BrokerNodes.Parse(options.Url);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"RABBITMQ_URL: {e.Message}", e);
        }
        if (BrokerTls.Problem(nodes.Uri, options.CaFile) is { } problem) throw new ArgumentException(problem);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<StartFailure>();
        builder.Services.AddHostedService<BrokerPreflight>();
        builder.Services.AddHostedService<BusConnectionGauge>();
        builder.Services.AddSingleton(RefusedPublishRecovery.ForBus);
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(KebabCaseEndpointNameFormatter.Instance);
            configure(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                if (BrokerReconnectSchedule.TryApply(rabbit) is { } unchanged)
                {
                    LogReconnectScheduleUnchanged(context.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BusExtensions)), unchanged);
                }
                rabbit.Host(nodes.Uri, host =>
                {
                    host.UseBrokerTls(nodes.Uri, options.CaFile);
                    host.UseBrokerNodes(nodes);
                });
                // Every durable queue a quorum queue (docs/operations.md#a-broker-cluster).
                rabbit.ConnectEndpointConfigurationObserver(new QuorumQueues());
                // Refused publishes reopen the connection: RabbitMQ 3.10 can refuse a channel for good after a quorum
                // queue's leader election (docs/operations.md#a-broker-cluster).
                rabbit.UseRefusedPublishRecovery(context);
                rabbit.OverrideDefaultBusEndpointQueueName(BrokerNames.BusEndpoint(service));
                rabbit.PrefetchCount = options.PrefetchCount;
                rabbit.UseMonitorPartitionRouting();
                configureBus?.Invoke(context, rabbit);
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    public static BusOptions ReadBusOptions(IConfiguration configuration)
    {
        var options = new BusOptions();
        configuration.GetSection(BusOptions.Section).Bind(options);
        var fromEnvironment = configuration["RABBITMQ_URL"];
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            options.Url = fromEnvironment;
        }
        var caFile = configuration[BrokerTls.CaFileVariable];
        if (!string.IsNullOrWhiteSpace(caFile)) options.CaFile = caFile;
        return options;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Broker reconnects stay on MassTransit's 3-30 s schedule ({Reason}): after a broker outage this service may be deaf for up to 30 s")]
    private static partial void LogReconnectScheduleUnchanged(ILogger logger, string reason);
}

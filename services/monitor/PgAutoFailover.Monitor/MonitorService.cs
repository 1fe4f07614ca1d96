using System.Diagnostics;
using OpenTelemetry.Trace;
using PgAutoFailover.Contracts;
using JasperFx;
using JasperFx.Events;
using Marten;
using Marten.Schema;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Messaging;
using PgAutoFailover.Monitor.Queries;
using PgAutoFailover.Monitor.Store;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Monitor;

public static class MonitorService
{
    public static readonly ServiceTelemetry Telemetry = new("PgAutoFailover.Monitor");

    /// <summary>The monitor's store (Marten, one event stream per group) and its consumers on the bus.</summary>
    public static WebApplicationBuilder AddMonitor(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("MonitorStore")
            ?? throw new InvalidOperationException("ConnectionStrings:MonitorStore is not set: the monitor needs its PostgreSQL store");
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"ConnectionStrings:MonitorStore is not a valid connection string: {e.Message}", e);
        }
        var options = new MonitorServiceOptions();
        builder.Configuration.GetSection(MonitorServiceOptions.Section).Bind(options);
        options.Core = builder.Configuration.GetSection($"{MonitorServiceOptions.Section}:Core").Get<MonitorOptions>() ?? MonitorOptions.Default;
        options.Checked();
        builder.Services.AddSingleton(options);
        // The rules' instants come from a clock a host clock step cannot move (SteadyClock; docs/faults.md, "A clock step").
        builder.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(new SteadyClock()));

        var dataSource = StoreDataSource(connectionString);
        builder.Services.AddMarten(marten =>
            {
                marten.Connection(dataSource);
                marten.DatabaseSchemaName = "pgaf_monitor";
                marten.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                marten.UseSystemTextJsonForSerialization();
                // Streams are named "<formation>/<group>": readable in the store and stable across restarts.
                marten.Events.StreamIdentity = StreamIdentity.AsString;
                // Every domain event type is known up front, so a fresh process can read old streams.
                marten.Events.AddEventTypes(typeof(IGroupEvent).Assembly.GetTypes()
                    .Where(t => t.IsClass && !t.IsAbstract && typeof(IGroupEvent).IsAssignableFrom(t)));
                marten.Schema.For<NodeLiveness>().Index(l => l.StreamKey);
                // The consumers check address and name before deciding; these make the check hold when two
                // requests race through different groups (different gates) or different monitor instances.
                marten.Schema.For<NodeRecord>()
                    .UniqueIndex(UniqueIndexType.Computed, NodeDirectory.AddressIndex, r => r.Host, r => r.Port)
                    .UniqueIndex(UniqueIndexType.Computed, NodeDirectory.NameIndex, r => r.Formation, r => r.Name);
            })
            .UseLightweightSessions();
        builder.Services.ConfigureMarten((services, marten) => marten.Logger(new StoreLogger(services.GetRequiredService<ILoggerFactory>())));

        builder.Services.AddSingleton(dataSource);
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddNpgsql());
        builder.Services.AddSingleton(new MonitorCore(options.Core));
        builder.Services.AddSingleton<GroupStore>();
        builder.Services.AddSingleton<NodeDirectory>();
        builder.Services.AddSingleton<FormationDirectory>();
        builder.Services.AddSingleton<LivenessBuffer>();
        builder.Services.AddSingleton<OutboxCleaner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OutboxCleaner>());
        builder.Services.AddSingleton<DecisionPublisher>();
        builder.Services.AddSingleton<MonitorMetrics>();
        builder.Services.AddSingleton<NodeMetrics>();
        builder.Services.AddSingleton<GroupCoordinator>();
        builder.Services.AddSingleton<SoleHolder>();
        builder.Services.AddSingleton<FormationQueries>();
        builder.Services.AddSingleton<ResponseAddressGuard>();
        builder.Services.AddSingleton<BrokerSideConnection>();
        builder.Services.AddSingleton<GoalQueues>();
        builder.Services.AddSingleton<PartitionLeases>();
        builder.Services.AddSingleton<PartitionEndpoints>();
        builder.Services.AddSingleton<PartitionOwner>();
        builder.Services.AddHealthChecks().AddCheck<PartitionHealthCheck>("partitions");
        // Registered before the bus, so the store is ready and the groups loaded before any message is consumed.
        builder.Services.AddHostedService<MonitorStartup>();
        builder.Services.AddHostedService<GroupTimer>();
        builder.Services.AddHostedService<LivenessFlusher>();

        builder.AddPgAutoFailoverBus(BrokerNames.Monitor, bus =>
        {
            bus.AddConsumer<RegisterNodeConsumer>();
            // Reports and probes arrive on the endpoints of the partitions this instance holds (PartitionEndpoints).
            bus.AddConsumer<ReportNodeStateConsumer>(typeof(ReportNodeStateConsumerDefinition)).ExcludeFromConfigureEndpoints();
            bus.AddConsumer<NodeProbedConsumer>(typeof(NodeProbedConsumerDefinition)).ExcludeFromConfigureEndpoints();
            bus.AddConsumer<OperatorCommandsConsumer>();
            bus.AddConsumer<OperatorQueriesConsumer>();
        }, (context, rabbit) => rabbit.UseConsumeFilter(typeof(MessageRulesFilter<>), context));
        // After the bus: it publishes what a dead monitor stored and never published.
        builder.Services.AddHostedService<OutboxRelay>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PartitionOwner>());
        return builder;
    }

    /// <summary>
    /// The store's one data source, for Marten and the monitor's own queries. Npgsql traces a command only inside a
    /// span (a decision, a consumer): the store writes then show in the failover's trace (docs/architecture.md#traces),
    /// while the relay's and the timers' polling would only be noise.
    /// </summary>
    private static NpgsqlDataSource StoreDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConfigureTracing(tracing => tracing
            .ConfigureCommandFilter(_ => Activity.Current is not null)
            .ConfigureBatchFilter(_ => Activity.Current is not null)
            .EnablePhysicalOpenTracing(false));
        return builder.Build();
    }
}

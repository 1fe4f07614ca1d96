using Marten;
using JasperFx;
using JasperFx.Events;
using PgAutoFailover.Monitor.Messaging;
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

        builder.Services.AddMarten(options =>
            {
                options.Connection(connectionString);
                options.DatabaseSchemaName = "pgaf_monitor";
                options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                // Streams are named "<formation>/<group>": readable in the store and stable across restarts.
                options.Events.StreamIdentity = StreamIdentity.AsString;
            })
            .UseLightweightSessions();

        builder.AddPgAutoFailoverBus(bus =>
        {
            bus.AddConsumer<NodeProbedConsumer>(typeof(NodeProbedConsumerDefinition));
        });
        return builder;
    }
}

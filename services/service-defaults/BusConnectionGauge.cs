using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.Hosting;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// <c>pgaf_bus_connected</c>: 1 while the service's bus and every receive endpoint are connected to the broker,
/// 0 otherwise (MassTransit's own health verdict, read at each scrape). A hosted service only so that the gauge
/// exists from the start, before anything else resolves it.
/// </summary>
internal sealed class BusConnectionGauge : IHostedService
{
    /// <summary>Meter of the gauge; every service exports it (ServiceDefaultsExtensions).</summary>
    public const string MeterName = "PgAutoFailover.Bus";

    public BusConnectionGauge(IMeterFactory meters, IBusControl bus)
    {
        meters.Create(MeterName).CreateObservableGauge("pgaf.bus.connected",
            () => bus.CheckHealth().Status == BusHealthStatus.Healthy ? 1 : 0,
            description: "1 while the bus and all its receive endpoints are connected to the broker");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

using PgAutoFailover.Contracts;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using PgAutoFailover.HealthChecker.Messaging;
using PgAutoFailover.HealthChecker.Probing;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.HealthChecker;

public static partial class HealthCheckerService
{
    public static readonly ServiceTelemetry Telemetry = new("PgAutoFailover.HealthChecker");

    public static WebApplicationBuilder AddHealthChecker(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(HealthCheckerOptions.Section);
        builder.Services.AddCheckedOptions<HealthCheckerOptions>(section);
        var checkerId = (section.Get<HealthCheckerOptions>() ?? new HealthCheckerOptions()).CheckerId;

        builder.Services.AddSingleton<ProbeTargets>();
        builder.Services.AddSingleton<PostgresProbe>();
        builder.Services.AddSingleton<IProbeSink, BusProbeSink>();
        builder.Services.AddSingleton(sp => new ProbeMetrics(sp.GetRequiredService<IMeterFactory>().Create(Telemetry.ServiceName)));
        builder.Services.AddSingleton<ProbeScheduler>();
        builder.Services.AddHostedService<ProbeService>();
        builder.Services.AddTopologyBootstrap<ProbeTargets>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<HealthCheckerOptions>>().Value;
            return new TopologyRequestOptions($"health-checker/{o.CheckerId}", o.TopologyRequestTimeout, o.TopologyRetryDelay,
                o.TopologyRetryMaxDelay, o.TopologyRefreshPeriod);
        });
        builder.AddPgAutoFailoverBus(BrokerNames.HealthChecker, bus =>
        {
            // Every checker needs every snapshot: a temporary queue of its own, in order.
            bus.AddConsumer<FormationTopologyChangedConsumer>().Endpoint(e =>
            {
                e.Name = $"health-checker-topology-{QueueSafe().Replace(checkerId, "-")}";
                e.Temporary = true;
                e.ConcurrentMessageLimit = 1;
            });
        });
        return builder;
    }

    [GeneratedRegex("[^A-Za-z0-9._-]")]
    private static partial Regex QueueSafe();
}

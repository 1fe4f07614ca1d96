using PgAutoFailover.HealthChecker.Probing;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.HealthChecker;

public static class HealthCheckerService
{
    public static readonly ServiceTelemetry Telemetry = new("PgAutoFailover.HealthChecker");

    public static WebApplicationBuilder AddHealthChecker(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<HealthCheckerOptions>(builder.Configuration.GetSection(HealthCheckerOptions.Section));
        builder.Services.AddSingleton<ProbeTargets>();
        builder.Services.AddSingleton<PostgresProbe>();
        builder.Services.AddHostedService<ProbeScheduler>();
        builder.AddPgAutoFailoverBus(_ => { });
        return builder;
    }
}

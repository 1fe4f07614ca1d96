using PgAutoFailover.HealthChecker;
using PgAutoFailover.ServiceDefaults;

return await ServiceHostBuilder.RunServiceAsync("health-checker", args,
    builder => builder.AddServiceDefaults(HealthCheckerService.Telemetry).AddHealthChecker(),
    app => app.MapDefaultEndpoints());

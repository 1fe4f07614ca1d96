using PgAutoFailover.Monitor;
using PgAutoFailover.Monitor.Queries;
using PgAutoFailover.ServiceDefaults;

return await ServiceHostBuilder.RunServiceAsync("monitor", args,
    builder => builder.AddServiceDefaults(MonitorService.Telemetry).AddMonitor(),
    app =>
    {
        app.MapDefaultEndpoints();
        app.MapReadApi();
    });

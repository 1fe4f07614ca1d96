using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.UriService;

return await ServiceHostBuilder.RunServiceAsync("uri-service", args,
    builder => builder.AddServiceDefaults(UriServiceHost.Telemetry).AddUriService(),
    app => app.MapDefaultEndpoints());

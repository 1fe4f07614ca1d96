using PgAutoFailover.Monitor;
using PgAutoFailover.Monitor.Queries;
using PgAutoFailover.ServiceDefaults;

var builder = ServiceHostBuilder.Create(args);
builder.AddServiceDefaults(MonitorService.Telemetry);
builder.AddMonitor();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapReadApi();
app.Run();

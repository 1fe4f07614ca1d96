using PgAutoFailover.Monitor;
using PgAutoFailover.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(MonitorService.Telemetry);
builder.AddMonitor();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

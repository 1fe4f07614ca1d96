using PgAutoFailover.HealthChecker;
using PgAutoFailover.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(HealthCheckerService.Telemetry);
builder.AddHealthChecker();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

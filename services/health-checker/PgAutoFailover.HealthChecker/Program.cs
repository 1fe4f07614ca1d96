using PgAutoFailover.HealthChecker;
using PgAutoFailover.ServiceDefaults;

var builder = ServiceHostBuilder.Create(args);
builder.AddServiceDefaults(HealthCheckerService.Telemetry);
builder.AddHealthChecker();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

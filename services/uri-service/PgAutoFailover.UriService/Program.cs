using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.UriService;

var builder = ServiceHostBuilder.Create(args);
builder.AddServiceDefaults(UriServiceHost.Telemetry);
builder.AddUriService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.UriService;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(UriServiceHost.Telemetry);
builder.AddUriService();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

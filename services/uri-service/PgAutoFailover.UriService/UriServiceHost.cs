using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.UriService;

public static class UriServiceHost
{
    public static readonly ServiceTelemetry Telemetry = new("PgAutoFailover.UriService");

    public static WebApplicationBuilder AddUriService(this WebApplicationBuilder builder)
    {
        builder.AddPgAutoFailoverBus(_ => { });
        return builder;
    }
}

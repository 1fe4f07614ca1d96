using PgAutoFailover.Contracts;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using MassTransit;
using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.UriService.Http;
using PgAutoFailover.UriService.Messaging;
using PgAutoFailover.UriService.Topology;

namespace PgAutoFailover.UriService;

public static partial class UriServiceHost
{
    public const string DefaultUrls = "http://127.0.0.1:7103";
    public static readonly ServiceTelemetry Telemetry = new("PgAutoFailover.UriService");

    public static WebApplicationBuilder AddUriService(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(UriServiceOptions.Section);
        builder.Services.AddCheckedOptions<UriServiceOptions>(section);
        var options = section.Get<UriServiceOptions>() ?? new UriServiceOptions();
        if (!string.IsNullOrWhiteSpace(options.Urls)) builder.WebHost.UseUrls(options.Urls);
        else if (string.IsNullOrWhiteSpace(builder.Configuration["Urls"])) builder.WebHost.UseUrls(DefaultUrls);

        builder.Services.AddSingleton<TopologyView>();
        builder.Services.AddSingleton(new ConnectionStringTracker(UriEndpoints.Ssl(options)));
        builder.Services.AddSingleton(sp => new UriMetrics(sp.GetRequiredService<IMeterFactory>().Create(Telemetry.ServiceName)));
        builder.Services.AddSingleton<TopologyUpdater>();
        builder.Services.AddTopologyBootstrap<TopologyUpdater>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<UriServiceOptions>>().Value;
            return new TopologyRequestOptions($"uri-service/{o.InstanceId}", o.TopologyRequestTimeout, o.TopologyRetryDelay,
                o.TopologyRetryMaxDelay, o.TopologyRefreshPeriod);
        });
        builder.Services.AddSingleton<IStartupFilter, UriEndpointsStartupFilter>();
        builder.AddPgAutoFailoverBus(BrokerNames.UriService, bus =>
        {
            // Every instance needs every snapshot: a temporary queue of its own, in order, one message at a time.
            var queue = $"uri-service-topology-{QueueSafe().Replace(options.InstanceId, "-")}";
            bus.AddConsumer<FormationTopologyChangedConsumer>((_, consumer) => consumer.UseMessageRetry(r => r.Intervals(100, 500, 1000, 2000, 5000)))
                .Endpoint(e => { e.Name = queue; e.Temporary = true; e.ConcurrentMessageLimit = 1; });
            bus.AddConsumer<PrimaryChangedConsumer>().Endpoint(e => { e.Name = queue; e.Temporary = true; e.ConcurrentMessageLimit = 1; });
        });
        return builder;
    }

    [GeneratedRegex("[^A-Za-z0-9._-]")]
    private static partial Regex QueueSafe();
}

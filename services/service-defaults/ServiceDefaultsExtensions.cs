using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// Wiring shared by every service, in the manner of eShop's ServiceDefaults: telemetry,
/// health endpoints and a Prometheus scrape endpoint. Each service adds its own
/// ActivitySource and Meter names through <see cref="ServiceTelemetry"/>.
/// </summary>
public static class ServiceDefaultsExtensions
{
    private static readonly double[] MillisecondBuckets =
        [1, 2, 5, 10, 15, 20, 30, 40, 50, 60, 75, 100, 150, 200, 300, 500, 750, 1000, 2500, 5000, 10000];

    private const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, ServiceTelemetry telemetry)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Configuration.AddSecretFiles();
        builder.Services.AddSingleton(TimeProvider.System);
        // One line per entry, with its UTC time to the millisecond: a failover's steps are read across the logs of
        // several services, and tens of milliseconds matter. Logging:Console:FormatterName=json (env
        // Logging__Console__FormatterName=json) writes one JSON object per line instead, for log shippers.
        // A line written inside a span carries its trace and span ids ("=> SpanId:…, TraceId:…"): grep a failover's
        // trace id across the services' logs to read its steps (docs/architecture.md#traces).
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (string.Equals(builder.Configuration["Logging:Console:FormatterName"], ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(console =>
            {
                console.IncludeScopes = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.IncludeScopes = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff'Z' ";
            });
        }
        builder.ConfigureOpenTelemetry(telemetry);
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    private static void ConfigureOpenTelemetry(this IHostApplicationBuilder builder, ServiceTelemetry telemetry)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(telemetry.ServiceName))
            .WithTracing(tracing => tracing
                .AddSource("MassTransit")
                .AddSource(telemetry.ServiceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsInfrastructurePath(ctx.Request.Path)))
            .WithMetrics(metrics => metrics
                .AddMeter("MassTransit")
                .AddMeter(telemetry.ServiceName)
                .AddMeter(BusConnectionGauge.MeterName)
                // The default buckets jump from 100 ms to 250 ms; failover timing is judged in tens of milliseconds.
                .AddView(instrument => instrument.Unit == "ms" && instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal)
                    ? new ExplicitBucketHistogramConfiguration { Boundaries = MillisecondBuckets }
                    : null)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());

        // OTLP is switched on by the standard variable, so that nothing is exported by default.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
    }

    private static bool IsInfrastructurePath(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/alive") || path.StartsWithSegments("/metrics");

    /// <summary>/health (everything, the bus included), /alive (the process only) and /metrics.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) });
        app.MapPrometheusScrapingEndpoint();
        return app;
    }
}

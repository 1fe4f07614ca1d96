using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Testing;

/// <summary>
/// One of our services hosted in the test process exactly as its Program.cs builds it (service
/// defaults, its Add&lt;Service&gt;() extension, default endpoints) on a free loopback port,
/// with test settings laid over its appsettings and the environment.
/// </summary>
public sealed class ServiceHost : IAsyncDisposable
{
    private ServiceHost(WebApplication app) => App = app;

    public WebApplication App { get; }
    public IServiceProvider Services => App.Services;

    public Uri BaseAddress =>
        new(App.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    public static async Task<ServiceHost> StartAsync(
        ServiceTelemetry telemetry,
        Action<WebApplicationBuilder> addService,
        IDictionary<string, string?> settings,
        Action<WebApplicationBuilder>? adjust = null,
        Action<WebApplication>? mapEndpoints = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Testing",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Urls"] = "http://127.0.0.1:0" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("PGAF_TEST_LOG"), out var level) ? level : LogLevel.Warning);
        builder.AddServiceDefaults(telemetry);
        addService(builder);
        adjust?.Invoke(builder);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        mapEndpoints?.Invoke(app);
        await app.StartAsync();
        var host = new ServiceHost(app);
        await host.WaitUntilHealthyAsync(TimeSpan.FromSeconds(90));
        return host;
    }

    /// <summary>
    /// The bus starts in the background: until its receive endpoints are bound, a published message has
    /// no queue to land in. MassTransit's own health checks say when it is ready; the service's other checks
    /// are left out, since a test may start a service that is meant to be unhealthy (a refused keeper).
    /// </summary>
    public async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var health = App.Services.GetRequiredService<HealthCheckService>();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var report = await health.CheckHealthAsync(check => check.Tags.Contains("masstransit") || check.Name.StartsWith("masstransit", StringComparison.OrdinalIgnoreCase));
            if (report.Status == HealthStatus.Healthy) return;
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("service not healthy: " + string.Join("; ",
                    report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => $"{e.Key}: {e.Value.Description}")));
            }
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await App.StopAsync(stopping.Token); }
        finally { await App.DisposeAsync(); }
    }
}

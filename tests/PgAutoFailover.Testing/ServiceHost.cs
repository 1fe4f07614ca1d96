using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
        Action<WebApplicationBuilder>? adjust = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Testing",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Urls"] = "http://127.0.0.1:0" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults(telemetry);
        addService(builder);
        adjust?.Invoke(builder);
        var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();
        return new ServiceHost(app);
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await App.StopAsync(stopping.Token); }
        finally { await App.DisposeAsync(); }
    }
}

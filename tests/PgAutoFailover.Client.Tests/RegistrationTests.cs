using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace PgAutoFailover.Client.Tests;

/// <summary>AddPgAutoFailoverDataSource in a real host: what it registers, and how the host refuses bad settings.</summary>
public sealed class RegistrationTests
{
    /// <summary>A loopback port nothing listens on: the uri-service is "down" (connection refused at once).</summary>
    private const string DeadUriService = "http://127.0.0.1:1";

    [Fact]
    public async Task The_host_starts_the_data_source_and_serves_it_as_a_DbDataSource()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddPgAutoFailoverDataSource(DeadUriService, "default", o =>
        {
            o.FallbackConnectionString = "postgres://f1:1,f2:2/app";
            o.StartupTimeout = TimeSpan.FromMilliseconds(300);
        });
        using var host = builder.Build();
        await host.StartAsync();
        var source = host.Services.GetRequiredService<PgAutoFailoverDataSource>();
        Assert.Same(source, host.Services.GetRequiredService<DbDataSource>());
        Assert.Contains("Host=f1:1,f2:2", source.ConnectionString);
        await host.StopAsync();
    }

    [Fact]
    public async Task Bad_settings_stop_the_host_at_start_with_every_problem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddPgAutoFailoverDataSource(DeadUriService, "", o => o.ConnectTimeout = TimeSpan.Zero);
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Formation must not be empty", error.Message);
        Assert.Contains("ConnectTimeout must be at least 1 s", error.Message);
    }

    [Fact]
    public void An_address_that_is_not_http_is_refused_at_registration()
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddPgAutoFailoverDataSource("uri-service:7103", "default"));
        Assert.StartsWith("the uri-service address must be an absolute http(s) address, got \"uri-service:7103\"", error.Message);
    }

    [Fact]
    public async Task Without_a_fallback_an_unreachable_uri_service_stops_the_host_with_one_line()
    {
        var builder = Host.CreateApplicationBuilder();
        // Refused at once, and tried again until the startup timeout: generous, so that on a loaded machine at least one
        // attempt has been refused (and not merely cut short by the timeout) when the host gives up.
        builder.Services.AddPgAutoFailoverDataSource(DeadUriService, "default", o => o.StartupTimeout = TimeSpan.FromSeconds(5));
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.StartsWith("the uri-service at http://127.0.0.1:1/ gave no hosts for formation \"default\" within 5 s: Connection refused", error.Message);
    }
}

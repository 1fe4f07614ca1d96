namespace PgAutoFailover.Client.Tests;

/// <summary>
/// How the data source follows the uri-service (no PostgreSQL needed: the data sources are built, never opened).
/// The end-to-end test (ClientPathTests) opens them through a real failover.
/// </summary>
public sealed class DataSourceTests
{
    private static PgAutoFailoverClientOptions Options(string? fallback = null) => new()
    {
        UriServiceUrl = new Uri("http://127.0.0.1:7103"),
        FallbackConnectionString = fallback,
        StartupTimeout = TimeSpan.FromSeconds(1),
        ReconnectDelay = TimeSpan.FromMilliseconds(10),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(50),
        ConfigureConnection = cs => cs.Username = "app",
    };

    private static Task Until(Func<bool> condition, string what) =>
        Testing.Eventually.TrueAsync(() => Task.FromResult(condition()), what, TimeSpan.FromSeconds(30));

    [Fact]
    public async Task It_starts_from_the_services_hosts_with_fast_failover_settings()
    {
        var service = new StubUriService();
        await using var source = new PgAutoFailoverDataSource(Options(), new HttpClient(service));
        await source.StartAsync();
        var settings = new Npgsql.NpgsqlConnectionStringBuilder(source.ReadWrite.ConnectionString);
        Assert.Equal("h1:1,h2:2", settings.Host);
        Assert.Equal(("app", 2, 1), (settings.Username, settings.Timeout, settings.HostRecheckSeconds));
        Assert.Equal(source.ReadWrite.ConnectionString, source.ConnectionString);
        Assert.Equal(1, source.LastAnswer?.Version);
    }

    [Fact]
    public async Task A_new_primary_keeps_the_data_sources_and_new_hosts_replace_them()
    {
        var service = new StubUriService();
        await using var source = new PgAutoFailoverDataSource(Options(), new HttpClient(service));
        var applied = new List<long>();
        source.AnswerApplied += (_, a) => { lock (applied) applied.Add(a.Version); };
        await source.StartAsync();
        var first = source.ReadWrite;

        // The primary moves (the service lists it first): same hosts, same data source, its cached roles dropped.
        await service.SendAsync(StubUriService.Answer(2, null, "h1:1", "h2:2"));
        await service.SendAsync(StubUriService.Answer(3, "node2", "h2:2", "h1:1"));
        await Until(() => source.LastAnswer?.Version == 3, "version 3 to be applied");
        Assert.Same(first, source.ReadWrite);
        Assert.Equal("node2", source.LastAnswer?.Primary?.Name);

        // A third node joins: new data sources over the three hosts.
        await service.SendAsync(StubUriService.Answer(4, "node2", "h2:2", "h1:1", "h3:3"));
        await Until(() => source.LastAnswer?.Version == 4, "version 4 to be applied");
        Assert.NotSame(first, source.ReadWrite);
        Assert.Equal("h2:2,h1:1,h3:3", new Npgsql.NpgsqlConnectionStringBuilder(source.ReadWrite.ConnectionString).Host);
        lock (applied) Assert.Equal([1, 2, 3, 4], applied);
    }

    [Fact]
    public async Task While_the_service_is_down_the_last_hosts_stay_and_its_return_is_followed()
    {
        var service = new StubUriService();
        await using var source = new PgAutoFailoverDataSource(Options(), new HttpClient(service));
        await source.StartAsync();
        var hosts = source.ReadWrite.ConnectionString;
        await Until(() => service.WatchesOpened == 1, "the client to watch");

        service.Down = true;
        await service.BreakWatchAsync();
        var opened = service.WatchesOpened;
        await Task.Delay(200); // several reconnect attempts, all refused
        Assert.Equal(hosts, source.ReadWrite.ConnectionString);

        service.Down = false;
        await Until(() => service.WatchesOpened > opened, "the client to watch again");
        await service.SendAsync(StubUriService.Answer(7, "node1", "h1:1", "h2:2", "h3:3"));
        await Until(() => source.LastAnswer?.Version == 7, "the answer after the outage to be applied");
        Assert.Contains("h3:3", source.ReadWrite.ConnectionString);
    }

    [Fact]
    public async Task Unreachable_at_start_it_takes_the_fallback_or_says_why_it_cannot_start()
    {
        var down = new StubUriService { Down = true };
        await using (var source = new PgAutoFailoverDataSource(Options("postgres://f1:1,f2:2/app"), new HttpClient(down)))
        {
            await source.StartAsync();
            Assert.Equal("f1:1,f2:2", new Npgsql.NpgsqlConnectionStringBuilder(source.ReadWrite.ConnectionString).Host);
            Assert.Null(source.LastAnswer);
        }

        await using var without = new PgAutoFailoverDataSource(Options(), new HttpClient(down));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => without.StartAsync());
        Assert.Equal("the uri-service at http://127.0.0.1:7103/ gave no hosts for formation \"default\" within 1 s: Connection refused (127.0.0.1:7103)", error.Message);
        Assert.Contains("not started", Assert.Throws<InvalidOperationException>(() => without.ReadWrite).Message);
    }

    [Fact]
    public void Wrong_options_are_refused_at_construction_with_every_problem()
    {
        var error = Assert.Throws<ArgumentException>(() => new PgAutoFailoverDataSource(new PgAutoFailoverClientOptions { Formation = "" }));
        Assert.StartsWith("UriServiceUrl is required (or a FallbackConnectionString to use without the uri-service); Formation must not be empty", error.Message);
    }
}

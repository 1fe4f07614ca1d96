using PgAutoFailover.Testing;

namespace PgAutoFailover.IntegrationTests.Monitor;

/// <summary>
/// What the monitor's tests against a real broker and store share: each test starts from an empty store (a PostgreSQL
/// server of its own) and an empty virtual host, and the monitor decides fast.
/// </summary>
public abstract class MonitorTestBed(RabbitMqFixture broker) : IAsyncLifetime
{
    protected static readonly Dictionary<string, string?> FastSettings = new()
    {
        ["Monitor:Core:StartupGracePeriod"] = "00:00:00.500",
        ["Monitor:TimerPeriod"] = "00:00:00.200",
    };

    protected PgCluster Store { get; private set; } = null!;
    protected Uri Amqp { get; private set; } = null!;
    protected string StoreConnection { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Store = await PgCluster.CreateAsync();
        StoreConnection = await Store.CreateDatabaseAsync("pg_auto_failover");
        Amqp = await broker.NewVirtualHostAsync();
    }

    public async Task DisposeAsync() => await Store.DisposeAsync();
}

using Marten;
using Microsoft.Extensions.DependencyInjection;
using PgAutoFailover.Contracts;
using PgAutoFailover.HealthChecker;
using PgAutoFailover.Monitor;
using PgAutoFailover.Monitor.Store;
using PgAutoFailover.Testing;

namespace PgAutoFailover.IntegrationTests.Skeleton;

/// <summary>
/// The walking skeleton: a real health-checker probes a real PostgreSQL node and publishes
/// NodeProbed over a real RabbitMQ broker; a real monitor stores the verdict in the group's
/// Marten stream in a real PostgreSQL database; the test reads the stream back.
/// </summary>
public sealed class ProbeToStreamTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private PgCluster _store = null!;
    private string _storeConnection = "";

    public async Task InitializeAsync()
    {
        _store = await PgCluster.CreateAsync();
        _storeConnection = await _store.CreateDatabaseAsync("pg_auto_failover");
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task A_probe_of_a_running_node_reaches_the_groups_stream()
    {
        await using var node = await PgCluster.CreateAsync();
        var address = new NodeAddress("skeleton-up", 0, 1, "node_1", "127.0.0.1", node.Port);

        await using var monitor = await StartMonitorAsync();
        await using var checker = await StartCheckerAsync(address);

        var recorded = await WaitForRecordAsync(monitor, address);

        Assert.True(recorded.Healthy, $"probe error: {recorded.Error}");
        Assert.Null(recorded.Error);
        Assert.Equal(1, recorded.NodeId);
        Assert.Equal("checker-under-test", recorded.CheckerId);
    }

    [Fact]
    public async Task A_probe_of_a_stopped_node_records_the_failure_with_its_error_text()
    {
        await using var node = await PgCluster.CreateAsync();
        await node.StopAsync();
        var address = new NodeAddress("skeleton-down", 0, 7, "node_7", "127.0.0.1", node.Port);

        await using var monitor = await StartMonitorAsync();
        await using var checker = await StartCheckerAsync(address);

        var recorded = await WaitForRecordAsync(monitor, address);

        Assert.False(recorded.Healthy);
        Assert.False(string.IsNullOrWhiteSpace(recorded.Error));
        Assert.Contains("refused", recorded.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Repeated_probes_with_the_same_verdict_are_stored_once()
    {
        await using var node = await PgCluster.CreateAsync();
        var address = new NodeAddress("skeleton-repeat", 0, 2, "node_2", "127.0.0.1", node.Port);

        await using var monitor = await StartMonitorAsync();
        await using (var checker = await StartCheckerAsync(address))
        {
            await WaitForRecordAsync(monitor, address);
            // Several more probe periods with the same verdict.
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        var events = await ReadStreamAsync(monitor, address);
        Assert.Single(events);
    }

    private Task<ServiceHost> StartMonitorAsync() =>
        ServiceHost.StartAsync(MonitorService.Telemetry, b => b.AddMonitor(), new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.AmqpUri.ToString(),
            ["ConnectionStrings:MonitorStore"] = _storeConnection,
        });

    private Task<ServiceHost> StartCheckerAsync(NodeAddress node) =>
        ServiceHost.StartAsync(HealthCheckerService.Telemetry, b => b.AddHealthChecker(), new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.AmqpUri.ToString(),
            ["HealthChecker:CheckerId"] = "checker-under-test",
            ["HealthChecker:ProbePeriod"] = "00:00:00.200",
            ["HealthChecker:Username"] = "postgres",
            ["HealthChecker:StaticNodes:0:Formation"] = node.Formation,
            ["HealthChecker:StaticNodes:0:GroupId"] = node.GroupId.ToString(),
            ["HealthChecker:StaticNodes:0:NodeId"] = node.NodeId.ToString(),
            ["HealthChecker:StaticNodes:0:NodeName"] = node.NodeName,
            ["HealthChecker:StaticNodes:0:Host"] = node.Host,
            ["HealthChecker:StaticNodes:0:Port"] = node.Port.ToString(),
        });

    private static async Task<ProbeHealthRecorded> WaitForRecordAsync(ServiceHost monitor, NodeAddress node) =>
        await Eventually.ValueAsync(async () =>
            (await ReadStreamAsync(monitor, node)).FirstOrDefault(), $"a probe verdict for node {node.NodeId} in the monitor's stream");

    private static async Task<IReadOnlyList<ProbeHealthRecorded>> ReadStreamAsync(ServiceHost monitor, NodeAddress node)
    {
        // Read straight from the store with a fresh session, not through the monitor's own state.
        await using var session = monitor.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var events = await session.Events.FetchStreamAsync(GroupStream.Key(node.Formation, node.GroupId));
        return events.Select(e => e.Data).OfType<ProbeHealthRecorded>().Where(e => e.NodeId == node.NodeId).ToList();
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.HealthChecker;
using PgAutoFailover.IntegrationTests.Monitor;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Testing;

namespace PgAutoFailover.IntegrationTests.Skeleton;

/// <summary>
/// The walking skeleton: a real health-checker probes a real PostgreSQL node and publishes NodeProbed
/// over a real RabbitMQ broker; a real monitor turns the probes into the node's health verdict in the
/// group's Marten stream in a real PostgreSQL database; the test reads the stream back.
/// </summary>
public sealed class ProbeToStreamTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private PgCluster _store = null!;
    private MonitorHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _store = await PgCluster.CreateAsync();
        _harness = await MonitorHarness.StartAsync(broker.AmqpUri, await _store.CreateDatabaseAsync("pg_auto_failover"),
            settings: new Dictionary<string, string?> { ["Monitor:Core:StartupGracePeriod"] = "00:00:00.500" });
    }

    public async Task DisposeAsync()
    {
        await _harness.DisposeAsync();
        await _store.DisposeAsync();
    }

    [Fact]
    public async Task A_probe_of_a_running_node_marks_it_healthy_in_the_groups_stream()
    {
        await using var node = await PgCluster.CreateAsync();
        var registered = Assert.IsType<NodeRegistered>(await _harness.RegisterAsync("default", node.Port, "up"));
        await using var checker = await StartCheckerAsync(registered.Node);

        var marked = await WaitForVerdictAsync(registered.Node);

        Assert.Equal(NodeHealth.Good, marked.Health);
        Assert.Equal(registered.Node.NodeId, marked.NodeId);
    }

    [Fact]
    public async Task Probes_of_a_stopped_node_mark_it_unhealthy_with_the_error_text()
    {
        await using var node = await PgCluster.CreateAsync();
        await node.StopAsync();
        var registered = Assert.IsType<NodeRegistered>(await _harness.RegisterAsync("default", node.Port, "down"));
        await using var checker = await StartCheckerAsync(registered.Node);

        var marked = await WaitForVerdictAsync(registered.Node);

        Assert.Equal(NodeHealth.Bad, marked.Health);
        Assert.Contains("refused", marked.Reason, StringComparison.OrdinalIgnoreCase);
        // Published for ops right after it is stored.
        await Eventually.TrueAsync(() => Task.FromResult(_harness.Published.Of<NodeHealthChanged>()
            .Any(h => h.Health == NodeHealth.Bad && h.Node.NodeId == registered.Node.NodeId)), "NodeHealthChanged to bad");
    }

    [Fact]
    public async Task Repeated_probes_with_the_same_verdict_are_stored_once()
    {
        await using var node = await PgCluster.CreateAsync();
        var registered = Assert.IsType<NodeRegistered>(await _harness.RegisterAsync("default", node.Port, "steady"));
        await using (var checker = await StartCheckerAsync(registered.Node))
        {
            await WaitForVerdictAsync(registered.Node);
            await Task.Delay(TimeSpan.FromSeconds(2)); // several more probe periods, same verdict
        }

        var verdicts = (await _harness.StreamAsync("default")).Select(e => e.Data).OfType<NodeHealthMarked>()
            .Where(h => h.NodeId == registered.Node.NodeId);
        Assert.Single(verdicts);
    }

    private Task<ServiceHost> StartCheckerAsync(NodeAddress node) =>
        ServiceHost.StartAsync(HealthCheckerService.Telemetry, b => b.AddHealthChecker(), new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.AmqpUri.ToString(),
            ["HealthChecker:CheckerId"] = "checker-under-test",
            ["HealthChecker:ProbePeriod"] = "00:00:00.200",
            ["HealthChecker:Username"] = "postgres",
            ["HealthChecker:SslMode"] = "Disable", // the fixture's servers run without TLS
            ["HealthChecker:StaticNodes:0:Formation"] = node.Formation,
            ["HealthChecker:StaticNodes:0:GroupId"] = node.GroupId.ToString(),
            ["HealthChecker:StaticNodes:0:NodeId"] = node.NodeId.ToString(),
            ["HealthChecker:StaticNodes:0:NodeName"] = node.NodeName,
            ["HealthChecker:StaticNodes:0:Host"] = node.Host,
            ["HealthChecker:StaticNodes:0:Port"] = node.Port.ToString(),
        });

    private async Task<NodeHealthMarked> WaitForVerdictAsync(NodeAddress node) =>
        await Eventually.ValueAsync(async () =>
            (await _harness.StreamAsync(node.Formation, node.GroupId)).Select(e => e.Data).OfType<NodeHealthMarked>()
                .FirstOrDefault(h => h.NodeId == node.NodeId),
            $"a health verdict for node {node.NodeId} in the monitor's stream");
}

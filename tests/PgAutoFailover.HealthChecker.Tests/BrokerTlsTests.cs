using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.HealthChecker.Tests;

/// <summary>
/// docs/operations.md#tls: a service (the health checker; every service connects through the same bus defaults) on an
/// amqps:// broker URL with RABBITMQ_CA_FILE naming the broker's private CA: its probes reach the monitor's side.
/// </summary>
public sealed class BrokerTlsTests(TlsRabbitMqFixture broker) : IClassFixture<TlsRabbitMqFixture>
{
    [Fact]
    public async Task A_service_publishes_over_amqps_to_a_broker_whose_ca_it_is_given()
    {
        await using var node = await PgCluster.CreateAsync();
        var snapshot = new NodeSnapshot(new NodeAddress("tls", 0, 7, "node_7", "127.0.0.1", node.Port),
            NodeState.Single, NodeState.Single, NodeHealth.Unknown, 1, 0, 50, true, true, null);
        await using var monitor = await FakeMonitor.StartAsync(broker.AmqpUri,
            [new FormationTopologyChanged("tls", "postgres", 1, [snapshot], DateTimeOffset.UtcNow)], broker.CaFile);

        await using var checker = await ServiceHost.StartAsync(HealthCheckerService.Telemetry, b => b.AddHealthChecker(), Settings(broker.CaFile));

        await Eventually.TrueAsync(() => Task.FromResult(monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 7 && p.Succeeded).Count > 0),
            "a probe of node 7 over the TLS broker");
    }

    [Fact]
    public async Task A_ca_file_with_a_plain_amqp_url_stops_the_service_with_one_line()
    {
        var settings = Settings(broker.CaFile);
        settings["RABBITMQ_URL"] = $"amqp://pgaf:pgaf@localhost:{broker.Port}/";

        var error = await Assert.ThrowsAsync<ArgumentException>(() => ServiceHost.StartAsync(HealthCheckerService.Telemetry, b => b.AddHealthChecker(), settings));

        Assert.Equal($"a broker CA file ({broker.CaFile}) is set but the broker URL is amqp://, not amqps://", error.Message);
    }

    private Dictionary<string, string?> Settings(string caFile) => new()
    {
        ["RABBITMQ_URL"] = broker.AmqpUri.ToString(),
        [BrokerTls.CaFileVariable] = caFile,
        ["HealthChecker:CheckerId"] = "tls-checker",
        ["HealthChecker:ProbePeriod"] = "00:00:00.300",
        ["HealthChecker:Username"] = "postgres",
        ["HealthChecker:SslMode"] = "Disable", // the fixture's server runs without TLS: this test is about the broker
    };
}

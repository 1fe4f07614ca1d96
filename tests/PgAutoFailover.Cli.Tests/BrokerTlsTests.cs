using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// docs/operations.md#tls: a broker that speaks AMQP over TLS only (a private RabbitMQ node with a certificate from a
/// private CA, on a port other than 5671). The monitor's side connects the way the services do (BrokerTls); pgaf is
/// answered when RABBITMQ_CA_FILE names that CA, and refused with one line otherwise.
/// </summary>
public sealed class BrokerTlsTests(BrokerTlsTests.TlsBroker broker) : IClassFixture<BrokerTlsTests.TlsBroker>
{
    [Fact]
    public async Task Pgaf_is_answered_over_amqps_when_it_trusts_the_brokers_ca()
    {
        var result = await CliRun.RunAsync(broker.Environment(broker.CaFile), "show", "state");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("node1 |     1 | localhost:5501", result.Stdout);
    }

    [Fact]
    public async Task A_broker_certificate_from_another_ca_is_refused_in_one_line()
    {
        var result = await CliRun.RunAsync(broker.Environment(broker.StrangerCaFile), "show", "state", "--timeout", "10");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        var line = CliRun.SingleErrorLine(result);
        Assert.StartsWith($"pgaf: cannot connect to RabbitMQ at amqps://pgaf:***@localhost:{broker.Port}/", line);
        // MassTransit retries a refused handshake until the timeout, so the line names the bound, not the certificate.
        Assert.Contains("within 10 s", line);
    }

    [Fact]
    public async Task Plain_amqp_to_the_tls_port_does_not_connect()
    {
        var plain = new Dictionary<string, string?> { ["RABBITMQ_URL"] = $"amqp://pgaf:pgaf@localhost:{broker.Port}/" };
        var result = await CliRun.RunAsync(plain, "show", "state", "--timeout", "5");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.StartsWith("pgaf: cannot connect to RabbitMQ", CliRun.SingleErrorLine(result));
    }

    [Fact]
    public async Task A_ca_file_without_amqps_or_that_does_not_exist_is_a_usage_error()
    {
        var plain = new Dictionary<string, string?> { ["RABBITMQ_URL"] = $"amqp://pgaf:pgaf@localhost:{broker.Port}/", ["RABBITMQ_CA_FILE"] = broker.CaFile };
        var result = await CliRun.RunAsync(plain, "show", "state");
        Assert.Equal(ExitCodes.BadArguments, result.ExitCode);
        Assert.Equal($"pgaf: a broker CA file ({broker.CaFile}) is set but the broker URL is amqp://, not amqps://", CliRun.SingleErrorLine(result));

        var missing = await CliRun.RunAsync(broker.Environment("/nonexistent/ca.crt"), "show", "state");
        Assert.Equal(ExitCodes.BadArguments, missing.ExitCode);
        Assert.Equal("pgaf: the broker CA file /nonexistent/ca.crt does not exist", CliRun.SingleErrorLine(missing));
    }

    /// <summary>The TLS-only broker and, on it, a responder that answers state queries as the monitor does.</summary>
    public sealed class TlsBroker : IAsyncLifetime
    {
        private readonly TlsRabbitMqFixture _broker = new();
        private IBusControl? _responder;

        public string CaFile => _broker.CaFile;
        public string StrangerCaFile => _broker.StrangerCaFile;
        public int Port => _broker.Port;

        public IReadOnlyDictionary<string, string?> Environment(string caFile) => new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = _broker.AmqpUri.ToString(),
            [BrokerTls.CaFileVariable] = caFile,
        };

        public async Task InitializeAsync()
        {
            await _broker.InitializeAsync();
            var url = _broker.AmqpUri;
            _responder = Bus.Factory.CreateUsingRabbitMq(rabbit =>
            {
                rabbit.Host(url, host => host.UseBrokerTls(url, CaFile));
                rabbit.ReceiveEndpoint("tls-monitor", endpoint =>
                    endpoint.Handler<GetFormationState>(context => context.RespondAsync(FakeMonitor.State(context.Message.Formation))));
            });
            using var start = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _responder.StartAsync(start.Token);
        }

        public async Task DisposeAsync()
        {
            if (_responder is not null) await _responder.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            await _broker.DisposeAsync();
        }
    }
}

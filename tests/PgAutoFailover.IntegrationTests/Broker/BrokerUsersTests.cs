using System.Text;
using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace PgAutoFailover.IntegrationTests.Broker;

/// <summary>
/// The per-service broker users of scripts/broker/definitions.sh (docs/operations.md#broker-users) on a real RabbitMQ:
/// each service can do what it does, and a stolen keeper password cannot steer the cluster.
/// </summary>
public sealed class BrokerUsersTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    private const string PerformFailover = "PgAutoFailover.Contracts:PerformFailover";
    private const string ReportNodeState = "PgAutoFailover.Contracts:ReportNodeState";
    private const string PrimaryChanged = "PgAutoFailover.Contracts:PrimaryChanged";

    [Fact]
    public async Task A_keeper_cannot_publish_a_monitor_command_or_send_another_keeper_a_goal_with_its_own_credentials()
    {
        await using var users = await BrokerUsers.CreateAsync(await broker.NewVirtualHostAsync());
        // What the monitor declares when it starts (operator-commands bound from PerformFailover's exchange) and when it
        // first sends node 2 its goal (the keeper-node-2 quorum queue, its exchange and their binding).
        await using var monitor = await Open(users.Url("monitor"));
        await using var keeper = await Open(users.Url("keeper"));
        await using (var m = await monitor.CreateChannelAsync())
        {
            await m.ExchangeDeclareAsync(PerformFailover, ExchangeType.Fanout, durable: true);
            await m.ExchangeDeclareAsync("operator-commands", ExchangeType.Fanout, durable: true);
            await m.QueueDeclareAsync("operator-commands", durable: true, exclusive: false, autoDelete: false);
            await m.QueueBindAsync("operator-commands", "operator-commands", "");
            await m.ExchangeBindAsync("operator-commands", PerformFailover, "");
        }
        await KeeperGoalQueue.DeclareAsync(monitor, 2, CancellationToken.None);
        await using (var k = await keeper.CreateChannelAsync())
        {
            // The keeper's endpoint declares its goal queue as the monitor did, and binds nothing.
            await k.QueueDeclareAsync("keeper-node-2", durable: true, exclusive: false, autoDelete: false,
                new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        }

        // What a keeper does: publish its report, read its own goal queue.
        await Allowed(keeper, async c =>
        {
            await c.ExchangeDeclareAsync(ReportNodeState, ExchangeType.Fanout, durable: true);
            await c.BasicPublishAsync(ReportNodeState, "", false, new BasicProperties(), Body);
        });
        await Allowed(keeper, c => c.BasicGetAsync("keeper-node-2", autoAck: true));

        // What it must not: a monitor command by any route, a goal to another keeper, the monitor's queue.
        await Refused(keeper, c => c.BasicPublishAsync(PerformFailover, "", false, new BasicProperties(), Body).AsTask());
        await Refused(keeper, c => c.ExchangeDeclareAsync(PerformFailover, ExchangeType.Fanout, durable: true));
        await Refused(keeper, c => c.BasicPublishAsync("operator-commands", "", false, new BasicProperties(), Body).AsTask());
        await Refused(keeper, c => c.BasicPublishAsync("", "operator-commands", false, new BasicProperties(), Body).AsTask());
        await Refused(keeper, c => c.BasicPublishAsync("keeper-node-2", "", false, new BasicProperties(), Body).AsTask());
        await Refused(keeper, c => c.BasicGetAsync("operator-commands", autoAck: true));
        await Refused(keeper, c => c.QueueBindAsync("keeper-node-2", PerformFailover, ""));

        // The operator's user (pgaf) may publish that command; the monitor's queue got nothing from the keeper.
        await using var operatorConnection = await Open(users.Url("operator"));
        await Allowed(operatorConnection, c => c.BasicPublishAsync(PerformFailover, "", false, new BasicProperties(), Body).AsTask());
        await using (var m = await monitor.CreateChannelAsync())
        {
            await Eventually.TrueAsync(async () => await m.MessageCountAsync("operator-commands") == 1, "the operator's command in operator-commands");
        }
    }

    [Fact]
    public async Task The_health_checker_cannot_forge_a_keepers_report_and_an_alerting_consumer_only_reads_events()
    {
        await using var users = await BrokerUsers.CreateAsync(await broker.NewVirtualHostAsync());
        await using var monitor = await Open(users.Url("monitor"));
        await using (var m = await monitor.CreateChannelAsync())
        {
            await m.ExchangeDeclareAsync(ReportNodeState, ExchangeType.Fanout, durable: true);
            await m.ExchangeDeclareAsync(PrimaryChanged, ExchangeType.Fanout, durable: true);
        }
        await using var checker = await Open(users.Url("health-checker"));
        await Allowed(checker, async c =>
        {
            await c.ExchangeDeclareAsync("PgAutoFailover.Contracts:NodeProbed", ExchangeType.Fanout, durable: true);
            await c.BasicPublishAsync("PgAutoFailover.Contracts:NodeProbed", "", false, new BasicProperties(), Body);
        });
        await Refused(checker, c => c.BasicPublishAsync(ReportNodeState, "", false, new BasicProperties(), Body).AsTask());

        await using var events = await Open(users.Url("events"));
        await Allowed(events, async c =>
        {
            await c.QueueDeclareAsync("ops-alerts", durable: true, exclusive: false, autoDelete: false);
            await c.QueueBindAsync("ops-alerts", PrimaryChanged, "");
        });
        await Refused(events, c => c.QueueBindAsync("ops-alerts", ReportNodeState, ""));
        await Refused(events, c => c.BasicPublishAsync(PrimaryChanged, "", false, new BasicProperties(), Body).AsTask());
    }

    [Fact]
    public async Task No_service_user_is_an_administrator_and_every_one_logs_in()
    {
        await using var users = await BrokerUsers.CreateAsync(await broker.NewVirtualHostAsync());
        foreach (var service in BrokerUsers.Services)
        {
            await using var connection = await Open(users.Url(service));
            Assert.True(connection.IsOpen, service);
        }
        var listed = await ProcessRunner.RunAsync("rabbitmqctl", ["-q", "list_users"], TimeSpan.FromSeconds(60));
        var ours = listed.StandardOutput.Split('\n').Where(l => BrokerUsers.Services.Any(s => l.StartsWith(users.UserName(s) + "\t", StringComparison.Ordinal))).ToList();
        Assert.Equal(BrokerUsers.Services.Length, ours.Count);
        Assert.All(ours, line => Assert.EndsWith("[]", line.Trim()));
    }

    private static readonly ReadOnlyMemory<byte> Body = Encoding.UTF8.GetBytes("{}");

    private static Task<IConnection> Open(Uri url) => new ConnectionFactory { Uri = url }.CreateConnectionAsync();

    private static async Task Allowed(IConnection connection, Func<IChannel, Task> act)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await act(channel);
    }

    /// <summary>The broker answers ACCESS_REFUSED (403) and closes the channel; nothing else counts as a refusal.</summary>
    private static async Task Refused(IConnection connection, Func<IChannel, Task> act)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => act(channel));
        var reason = channel.CloseReason ?? (error as OperationInterruptedException)?.ShutdownReason;
        Assert.True(reason?.ReplyCode == 403, $"expected ACCESS_REFUSED, got {reason?.ReplyCode} {reason?.ReplyText} ({error.GetType().Name}: {error.Message})");
    }
}

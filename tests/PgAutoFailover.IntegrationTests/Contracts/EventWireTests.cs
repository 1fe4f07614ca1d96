using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using RabbitMQ.Client;

namespace PgAutoFailover.IntegrationTests.Contracts;

/// <summary>
/// docs/events.md shows every published event as a consumer that is not .NET meets it: the raw body taken from a queue
/// bound to the event's exchange on a real broker, after the services' own MassTransit publish. A change to an event's
/// shape fails here until the page shows the new shape (PGAF_UPDATE_DOCS=1 rewrites the blocks).
/// </summary>
public sealed class EventWireTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 19, 8, 4, 250, TimeSpan.Zero);
    private static readonly NodeAddress Node1 = new("default", 0, 1, "node1", "10.0.0.11", 5432);
    private static readonly NodeAddress Node2 = new("default", 0, 2, "node2", "10.0.0.12", 5432);
    private static readonly Guid FailoverId = Guid.Parse("6f1c2b7e-3a0d-4c1e-9a51-2f4b8d0e7c13");

    /// <summary>Every event the services publish, with a sample. A contract type named like an event must be here.</summary>
    public static readonly IReadOnlyList<object> Samples =
    [
        new NodeStateChanged(Node2, NodeState.CatchingUp, NodeState.Secondary, NodeState.Secondary, 2, 0x3000148, 42, At),
        new NodeHealthChanged(Node1, NodeHealth.Good, NodeHealth.Bad, "connection refused", 43, At),
        new GoalStateAssigned(Node2, NodeState.Secondary, NodeState.PreparePromotion, NodeState.Secondary,
            "Setting goal state of node 2 \"node2\" (10.0.0.12:5432) to prepare_promotion: node 1 \"node1\" (10.0.0.11:5432) is unhealthy", 44, At),
        new PrimaryChanged("default", 0, Node1, Node2, 47, At),
        new FailoverStarted("default", 0, FailoverId, Node1, Node2, "node 1 \"node1\" (10.0.0.11:5432) is unhealthy", false, 44, At),
        new FailoverCompleted("default", 0, FailoverId, Node1, Node2, TimeSpan.FromMilliseconds(2150), 47, At),
        new FailoverBlocked("default", 0, Node1, "node 1 \"node1\" (10.0.0.11:5432) is unhealthy and automatic failover is disabled for formation default: …", 48, At),
        new FormationTopologyChanged("default", "postgres", 47,
        [
            new NodeSnapshot(Node1, NodeState.Primary, NodeState.Demoted, NodeHealth.Bad, 1, 0x3000148, 50, true, false, At.AddSeconds(-3)),
            new NodeSnapshot(Node2, NodeState.WaitPrimary, NodeState.WaitPrimary, NodeHealth.Good, 2, 0x3000200, 50, true, true, At),
        ], At),
        new ConnectionStringChanged("default", "postgres://10.0.0.12:5432,10.0.0.11:5432/postgres?target_session_attrs=read-write&sslmode=require", Node2, 47, At),
        new NodeProbed(Node1, false, "connection refused", TimeSpan.FromMilliseconds(3.5), "checker-1", At, null, 3, At.AddSeconds(-1)),
    ];

    [Fact]
    public void Every_event_type_in_contracts_has_a_sample()
    {
        string[] eventSuffixes = ["Changed", "Started", "Completed", "Blocked", "Assigned", "Probed"];
        var events = typeof(PrimaryChanged).Assembly.GetTypes()
            .Where(t => t.Namespace == "PgAutoFailover.Contracts" && t.IsClass && eventSuffixes.Any(t.Name.EndsWith))
            .Select(t => t.Name).Order().ToList();
        Assert.Equal(events, Samples.Select(s => s.GetType().Name).Order().ToList());
    }

    [Fact]
    public async Task The_events_page_shows_each_event_as_it_arrives_on_a_queue()
    {
        // The services trace (OpenTelemetry listens to MassTransit), so their messages carry the publishing activity in
        // the MT-Activity-Id header. Listening here makes the test see what they send, whatever else runs in this process.
        using var tracing = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MassTransit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(tracing);
        var amqp = await broker.NewVirtualHostAsync();
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(amqp));
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        try
        {
            await using var connection = await new ConnectionFactory { Uri = amqp }.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync();
            foreach (var sample in Samples)
            {
                var name = sample.GetType().Name;
                var exchange = $"PgAutoFailover.Contracts:{name}";
                // As a consumer of any language does it: the exchange MassTransit publishes to (fanout, durable), and a queue of our own.
                await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
                var queue = (await channel.QueueDeclareAsync($"wire-{name}", durable: false, exclusive: true, autoDelete: true)).QueueName;
                await channel.QueueBindAsync(queue, exchange, "");
                await bus.Publish(sample, sample.GetType());

                BasicGetResult? got = null;
                await Eventually.TrueAsync(async () => (got = await channel.BasicGetAsync(queue, autoAck: true)) is not null, $"{name} on {queue}");
                Assert.Equal("application/vnd.masstransit+json", got!.BasicProperties.ContentType);
                var block = "```json\n" + Normalize(Encoding.UTF8.GetString(got.Body.Span)) + "\n```";
                GeneratedDocs.AssertBlock("docs/events.md", $"wire-{name}", block);
            }
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    /// <summary>The envelope with what changes from message to message (ids, addresses, times, host) replaced by placeholders.</summary>
    private static string Normalize(string body)
    {
        var envelope = JsonNode.Parse(body)!.AsObject();
        foreach (var id in new[] { "messageId", "conversationId", "correlationId", "initiatorId", "requestId" })
            if (envelope[id] is not null) envelope[id] = $"<{id}>";
        if (envelope["sourceAddress"] is not null) envelope["sourceAddress"] = "<the publisher's bus address>";
        if (envelope["destinationAddress"] is JsonValue destination)
            envelope["destinationAddress"] = new Uri(destination.GetValue<string>()).AbsolutePath.TrimStart('/') is var path && path.Contains(':')
                ? $"rabbitmq://<broker>/<vhost>/{path[(path.LastIndexOf('/') + 1)..]}" : "<destination>";
        if (envelope["sentTime"] is not null) envelope["sentTime"] = "<when it was sent>";
        if (envelope["host"] is not null) envelope["host"] = "<the publishing process: machine, process, framework and MassTransit versions>";
        if (envelope["headers"] is JsonObject headers && headers["MT-Activity-Id"] is not null)
            headers["MT-Activity-Id"] = "<W3C traceparent of the publishing activity: 00-<trace id>-<span id>-<flags>>";
        return envelope.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}

using System.Text.Json;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// pgaf events tail (issue 15 part 3) against a real broker, connected as the operator's broker user of
/// scripts/broker/definitions.sh: events published as the monitor publishes them, duplicates by message id printed once.
/// </summary>
public sealed class EventsTailTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    private static readonly NodeAddress Node1 = new("default", 0, 1, "node1", "10.0.0.1", 5432);
    private static readonly NodeAddress Node2 = new("default", 0, 2, "node2", "10.0.0.2", 5432);
    private static readonly DateTimeOffset At = new(2026, 12, 4, 21, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_durable_queue_keeps_events_until_the_next_run_and_prints_each_once()
    {
        var admin = await broker.NewVirtualHostAsync();
        await using var users = await BrokerUsers.CreateAsync(admin);
        var environment = new Dictionary<string, string?> { ["RABBITMQ_URL"] = users.Url("operator").ToString() };

        // The first run makes the queue and its bindings; nothing was published yet.
        var first = await CliRun.RunAsync(environment, "events", "tail", "--queue", "oncall");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal("", first.Stdout);

        await using var publisher = await Publisher.StartAsync(admin);
        var failover = Guid.NewGuid();
        var started = new FailoverStarted("default", 0, failover, Node1, null, "primary unhealthy", false, 41, At);
        var startedId = Guid.NewGuid();
        await publisher.PublishAsync(started, startedId);
        await publisher.PublishAsync(started, startedId); // a copy: at-least-once delivery
        await publisher.PublishAsync(new PrimaryChanged("default", 0, Node1, Node2, 42, At), Guid.NewGuid());
        await publisher.PublishAsync(new PrimaryChanged("sales", 0, null, Node2 with { Formation = "sales" }, 7, At), Guid.NewGuid());
        await publisher.PublishAsync(new NodeProbed(Node1, false, "connection refused", TimeSpan.Zero, "checker", At, null), Guid.NewGuid());
        await publisher.PublishAsync(new FailoverCompleted("default", 0, failover, Node1, Node2, TimeSpan.FromSeconds(2.1), 43, At), Guid.NewGuid());

        var text = await CliRun.RunAsync(environment, "events", "tail", "--queue", "oncall", "--formation", "default");
        Assert.True(text.ExitCode == 0, text.ToString());
        var lines = text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length); // the copy once, the other formation and the probe (not a default type) left out
        Assert.Equal("2026-12-04T21:00:00.000Z  FailoverStarted          default/0    failover started (primary unhealthy); old primary node1 (node 1, 10.0.0.1:5432)", lines[0]);
        Assert.Contains("PrimaryChanged", lines[1]);
        Assert.EndsWith("primary node1 (node 1, 10.0.0.1:5432) -> node2 (node 2, 10.0.0.2:5432)", lines[1]);
        Assert.EndsWith("failover completed in 2.100 s: node1 (node 1, 10.0.0.1:5432) -> node2 (node 2, 10.0.0.2:5432)", lines[2]);

        // Read: the queue is empty now; what comes next, with --json.
        await publisher.PublishAsync(new GoalStateAssigned(Node2, NodeState.Secondary, NodeState.PreparePromotion, NodeState.Secondary,
            "node 1 is unhealthy and node 2 is a healthy candidate", 44, At), Guid.NewGuid());
        var json = await CliRun.RunAsync(environment, "events", "tail", "--queue", "oncall", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var line = Assert.Single(json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var document = JsonDocument.Parse(line);
        Assert.Equal("GoalStateAssigned", document.RootElement.GetProperty("type").GetString());
        var message = document.RootElement.GetProperty("message");
        Assert.Equal("node2", message.GetProperty("node").GetProperty("nodeName").GetString());
        Assert.Equal("prepare_promotion", message.GetProperty("goalState").GetString());
        Assert.Equal(44, message.GetProperty("groupVersion").GetInt64());
    }

    [Fact]
    public async Task Without_a_queue_it_prints_events_as_they_happen_until_stopped()
    {
        var admin = await broker.NewVirtualHostAsync();
        await using var publisher = await Publisher.StartAsync(admin);
        var environment = new Dictionary<string, string?> { ["RABBITMQ_URL"] = admin.ToString() };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var stdout = new SynchronizedWriter();
        var run = PgafApp.RunAsync(["events", "tail", "--type", "NodeHealthChanged"], stdout, new StringWriter(),
            new PgafEnvironment(environment), stop.Token);

        // Published until the tail's queue is bound and one arrives: a queue that did not exist yet received nothing.
        var version = 0L;
        await Eventually.TrueAsync(async () =>
        {
            await publisher.PublishAsync(new NodeHealthChanged(Node2, NodeHealth.Good, NodeHealth.Bad, "3 failed probes", ++version, At), Guid.NewGuid());
            await Task.Delay(200);
            return stdout.ToString().Contains("node2 (node 2, 10.0.0.2:5432) health good -> bad: 3 failed probes");
        }, "pgaf events tail to print the health change", TimeSpan.FromSeconds(60));
        Assert.False(run.IsCompleted, "a tail without --queue goes on until stopped");
        await stop.CancelAsync();
        Assert.Equal(0, await run);
    }

    [Fact]
    public async Task A_webhook_gets_each_event_once_and_a_refused_post_is_tried_again()
    {
        var admin = await broker.NewVirtualHostAsync();
        var environment = new Dictionary<string, string?> { ["RABBITMQ_URL"] = admin.ToString() };
        using var receiver = WebhookReceiver.Start(refuseFirst: 1);
        Assert.Equal(0, (await CliRun.RunAsync(environment, "events", "tail", "--queue", "hook")).ExitCode); // the queue and its bindings

        await using var publisher = await Publisher.StartAsync(admin);
        var blockedId = Guid.NewGuid();
        var blocked = new FailoverBlocked("default", 0, Node1, "every standby has candidate priority 0", 50, At);
        await publisher.PublishAsync(blocked, blockedId);
        await publisher.PublishAsync(blocked, blockedId);
        await publisher.PublishAsync(new NodeHealthChanged(Node1, NodeHealth.Good, NodeHealth.Bad, "3 failed probes", 51, At), Guid.NewGuid());

        var result = await CliRun.RunAsync(environment, "events", "tail", "--queue", "hook", "--webhook", receiver.Url);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"pgaf: the webhook {receiver.Url} answered 500 Internal Server Error; trying again in 0.5 s", result.Stderr);
        Assert.Equal(3, receiver.Attempts); // one refused, then each event once
        var bodies = receiver.Accepted.Select(b => JsonDocument.Parse(b).RootElement).ToList();
        Assert.Equal(["FailoverBlocked", "NodeHealthChanged"], bodies.Select(b => b.GetProperty("type").GetString()));
        Assert.Equal(blockedId, bodies[0].GetProperty("messageId").GetGuid());
        Assert.Equal("every standby has candidate priority 0", bodies[0].GetProperty("message").GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("--webhook", "ftp://x/y", "--webhook must be an absolute http:// or https:// URL")]
    [InlineData("--type", "Bogus", "--type Bogus is not an event type")]
    [InlineData("--queue", "a b", "--queue must be 1 to 100 letters")]
    [InlineData("--formation", "-x", "not a valid formation name")]
    public async Task Bad_arguments_are_one_line(string option, string value, string expected)
    {
        var result = await CliRun.RunAsync(new Dictionary<string, string?>(), "events", "tail", option, value);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, CliRun.SingleErrorLine(result));
    }

    /// <summary>A local HTTP receiver for the webhook: refuses the first posts with 500, records the bodies it accepts.</summary>
    private sealed class WebhookReceiver : IDisposable
    {
        private readonly System.Net.HttpListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _accepted = new();
        private int _attempts;
        private int _refuse;

        public string Url { get; }
        public int Attempts => Volatile.Read(ref _attempts);
        public IReadOnlyList<string> Accepted => [.. _accepted];

        private WebhookReceiver(int port, int refuseFirst)
        {
            Url = $"http://127.0.0.1:{port}/alerts/";
            _refuse = refuseFirst;
            _listener.Prefixes.Add(Url);
        }

        public static WebhookReceiver Start(int refuseFirst)
        {
            var receiver = new WebhookReceiver(Ports.Free(), refuseFirst);
            receiver._listener.Start();
            _ = receiver.ServeAsync();
            return receiver;
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                using var reader = new StreamReader(context.Request.InputStream);
                var body = await reader.ReadToEndAsync();
                Interlocked.Increment(ref _attempts);
                if (Interlocked.Decrement(ref _refuse) >= 0)
                {
                    context.Response.StatusCode = 500;
                }
                else
                {
                    _accepted.Enqueue(body);
                    context.Response.StatusCode = 204;
                }
                context.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }

    /// <summary>Publishes as the monitor does: to the event's exchange, with a message id of the test's choosing.</summary>
    private sealed class Publisher : IAsyncDisposable
    {
        private readonly IBusControl _bus;
        private Publisher(IBusControl bus) => _bus = bus;

        public static async Task<Publisher> StartAsync(Uri amqp)
        {
            var bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(amqp));
            await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
            return new Publisher(bus);
        }

        public Task PublishAsync(object message, Guid messageId) =>
            _bus.Publish(message, message.GetType(), Pipe.Execute<PublishContext>(c => c.MessageId = messageId));

        public async ValueTask DisposeAsync() => await _bus.StopAsync();
    }

    /// <summary>A stdout the tail writes from the bus's thread while the test reads it.</summary>
    private sealed class SynchronizedWriter : StringWriter
    {
        private readonly Lock _gate = new();
        public override void Write(char value) { lock (_gate) base.Write(value); }
        public override void Write(string? value) { lock (_gate) base.Write(value); }
        public override void WriteLine(string? value) { lock (_gate) base.WriteLine(value); }
        public override string ToString() { lock (_gate) return base.ToString(); }
    }
}

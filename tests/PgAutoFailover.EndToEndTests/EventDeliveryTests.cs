using System.Collections.Concurrent;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 15 part 1 (docs/events.md#delivery): the events a decision publishes are stored with it. A monitor killed
/// right after storing the start of a failover, before it published anything of that decision, publishes those
/// events after its restart; every event carries a message id derived from its place in the group's stream, so after
/// dropping duplicates by that id each failover event is seen exactly once.
/// </summary>
public sealed class EventDeliveryTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Failover_events_stored_by_a_monitor_killed_before_it_published_them_arrive_after_its_restart()
    {
        var amqp = await broker.NewVirtualHostAsync();
        await using var events = await EventRecorder.StartAsync(amqp);
        await using var cluster = await ProcessCluster.StartAsync(amqp, new Dictionary<string, string>
        {
            ["Monitor__FaultKillAfterStoring"] = "FailoverBegan",
        });
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            var node1 = cluster.Node("node1");
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);

            await node1.CrashAsync();
            await Eventually.TrueAsync(() => Task.FromResult(!cluster.Monitor.Running),
                "the monitor to kill itself right after storing the failover's start", Patience);
            // Whatever the broker still had in flight has arrived by now: nothing of the killed decision was published.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Empty(events.Received<FailoverStarted>());

            cluster.StartMonitor();
            await cluster.WaitMonitorHealthyAsync();
            await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == "node2" && n.ReportedState == NodeState.WaitPrimary),
                "node2 to take writes", Patience);
            await Eventually.TrueAsync(() => Task.FromResult(events.Received<FailoverCompleted>().Count > 0), "FailoverCompleted", Patience);
            output.WriteLine(events.Describe());

            var started = Assert.Single(events.Distinct<FailoverStarted>());
            var completed = Assert.Single(events.Distinct<FailoverCompleted>());
            Assert.Equal(started.FailoverId, completed.FailoverId);
            Assert.Equal("node1", started.OldPrimary?.NodeName);
            Assert.Equal("node2", completed.NewPrimary.NodeName);
            var primaryChanges = events.Distinct<PrimaryChanged>();
            Assert.Contains(primaryChanges, p => p.NewPrimary?.NodeName == "node2");
            // One message id per event: copies (a relay after a publish whose batch was not yet deleted) share it.
            Assert.All(events.All.GroupBy(e => e.MessageId), copies => Assert.Single(copies.Select(c => (c.Message.GetType(), Version(c.Message))).Distinct()));
        });
    }

    private static long Version(object message) => message switch
    {
        FailoverStarted f => f.GroupVersion,
        FailoverCompleted f => f.GroupVersion,
        PrimaryChanged p => p.GroupVersion,
        _ => -1,
    };

    /// <summary>An alerting consumer: its own queue bound to the failover events, recording each copy with its message id.</summary>
    private sealed class EventRecorder : IAsyncDisposable
    {
        private readonly IBusControl _bus;
        private readonly ConcurrentQueue<(Guid MessageId, object Message)> _received = new();

        private EventRecorder(IBusControl bus) => _bus = bus;

        public IReadOnlyList<(Guid MessageId, object Message)> All => [.. _received];

        public static async Task<EventRecorder> StartAsync(Uri amqp)
        {
            EventRecorder? recorder = null;
            var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
            {
                rabbit.Host(amqp);
                rabbit.ReceiveEndpoint($"ops-test-events-{Guid.NewGuid():N}", e =>
                {
                    e.AutoDelete = true;
                    e.Handler<FailoverStarted>(c => recorder!.Record(c));
                    e.Handler<FailoverCompleted>(c => recorder!.Record(c));
                    e.Handler<PrimaryChanged>(c => recorder!.Record(c));
                });
            });
            recorder = new EventRecorder(bus);
            await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
            return recorder;
        }

        private Task Record<T>(ConsumeContext<T> context) where T : class
        {
            _received.Enqueue((context.MessageId ?? Guid.Empty, context.Message));
            return Task.CompletedTask;
        }

        public IReadOnlyList<T> Received<T>() => [.. _received.Select(r => r.Message).OfType<T>()];

        /// <summary>One copy per message id.</summary>
        public IReadOnlyList<T> Distinct<T>() => [.. _received.Where(r => r.Message is T).DistinctBy(r => r.MessageId).Select(r => (T)r.Message)];

        public string Describe() => string.Join('\n', _received.Select(r => $"{r.MessageId} {r.Message}"));

        public async ValueTask DisposeAsync() => await _bus.StopAsync();
    }
}

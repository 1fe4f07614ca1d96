using System.Collections.Concurrent;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Testing;

/// <summary>
/// The one monitor stand-in of the test suite: a real MassTransit bus on a real broker (a test's own virtual host)
/// answering the messages the real monitor answers, so a service or the CLI can be tested without the monitor and its
/// store. What it plays is split by the side it faces: keepers (<c>FakeMonitor.Keepers.cs</c>: registration, reports,
/// goals and leases the test scripts), operators (<c>FakeMonitor.Operators.cs</c>: pgaf's requests with canned
/// formations) and the topology readers (GetTopology, answered with the formations the test gives; the health-checker
/// and the uri-service). Every request is recorded in <see cref="Received"/>; every event the monitor would consume
/// (<see cref="NodeProbed"/>, and <see cref="ConnectionStringChanged"/> for the uri-service's tests) in
/// <see cref="Observed{T}"/>.
/// </summary>
public sealed partial class FakeMonitor : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly ConcurrentQueue<object> _observed = new();
    private volatile IReadOnlyList<FormationTopologyChanged>? _topology;
    private int _topologyRequests;

    private FakeMonitor(Uri broker, IReadOnlyList<FormationTopologyChanged>? topology, string? brokerCaFile)
    {
        _topology = topology;
        _busOptions = new BusOptions { Url = broker.ToString(), CaFile = brokerCaFile };
        // Requests are published, so the queue's name does not matter; a unique one keeps two stand-ins on one virtual
        // host from sharing (and splitting) one queue.
        var queue = $"fake-monitor-{Guid.NewGuid().ToString("N")[..8]}";
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(broker, host => host.UseBrokerTls(broker, brokerCaFile));
            rabbit.ReceiveEndpoint(queue, endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<GetTopology>(async context =>
                {
                    Interlocked.Increment(ref _topologyRequests);
                    if (_topology is { } formations) await context.RespondAsync(new TopologySnapshot(formations));
                });
                endpoint.Handler<NodeProbed>(context => Observe(context.Message));
                endpoint.Handler<ConnectionStringChanged>(context => Observe(context.Message));
                ConfigureKeeperSide(endpoint);
                ConfigureOperatorSide(endpoint);
            });
        });
    }

    /// <param name="broker">The broker (a test's virtual host).</param>
    /// <param name="topology">Formations GetTopology is answered with; null: no answer, as if the monitor were down.</param>
    /// <param name="brokerCaFile">The CA of an amqps:// broker, connected to as the services do.</param>
    public static async Task<FakeMonitor> StartAsync(Uri broker, IReadOnlyList<FormationTopologyChanged>? topology = null, string? brokerCaFile = null)
    {
        var monitor = new FakeMonitor(broker, topology, brokerCaFile);
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await monitor._bus.StartAsync(start.Token);
        return monitor;
    }

    /// <summary>Every request received, in arrival order.</summary>
    public ConcurrentQueue<object> Received { get; } = new();

    public IReadOnlyList<T> ReceivedOf<T>() => Received.OfType<T>().ToList();

    /// <summary>Every <typeparamref name="T"/> event seen, in arrival order.</summary>
    public IReadOnlyList<T> Observed<T>() => _observed.OfType<T>().ToList();

    public IReadOnlyList<T> ObservedWhere<T>(Func<T, bool> predicate) => _observed.OfType<T>().Where(predicate).ToList();

    /// <summary>GetTopology requests received, answered or not.</summary>
    public int TopologyRequests => Volatile.Read(ref _topologyRequests);

    /// <summary>From now on GetTopology is answered with these formations (null: no answer).</summary>
    public void AnswerTopologyWith(params FormationTopologyChanged[]? formations) => _topology = formations;

    public Task PublishAsync<T>(T message) where T : class => _bus.Publish(message);

    private Task Observe(object message)
    {
        _observed.Enqueue(message);
        return Task.CompletedTask;
    }

    private Task Succeed<T>(ConsumeContext<T> context, string formation, string message) where T : class
    {
        Received.Enqueue(context.Message);
        return context.RespondAsync(new OperatorCommandSucceeded(formation, message));
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _bus.StopAsync(stop.Token);
        if (_goalConnection is not null) await _goalConnection.DisposeAsync();
        _goalDeclare.Dispose();
    }
}

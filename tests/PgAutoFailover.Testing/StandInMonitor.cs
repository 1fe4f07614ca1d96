using System.Collections.Concurrent;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Testing;

/// <summary>
/// The test playing the monitor on the real broker, for services that only consume its topology: it
/// publishes messages, answers GetTopology when given formations to answer with, and records every
/// <typeparamref name="TObserved"/> the service under test publishes.
/// </summary>
public sealed class StandInMonitor<TObserved> : IAsyncDisposable where TObserved : class
{
    private readonly IBusControl _bus;
    private volatile IReadOnlyList<FormationTopologyChanged>? _answer;
    private int _topologyRequests;

    private StandInMonitor(Uri broker, IReadOnlyList<FormationTopologyChanged>? answer, string? brokerCaFile)
    {
        _answer = answer;
        var id = Guid.NewGuid().ToString("N")[..8];
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(broker, host => host.UseBrokerTls(broker, brokerCaFile));
            rabbit.ReceiveEndpoint($"test-monitor-{id}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<GetTopology>(async context =>
                {
                    Interlocked.Increment(ref _topologyRequests);
                    if (_answer is { } formations) await context.RespondAsync(new TopologySnapshot(formations));
                });
            });
            rabbit.ReceiveEndpoint($"test-observer-{id}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<TObserved>(context =>
                {
                    Observed.Enqueue(context.Message);
                    return Task.CompletedTask;
                });
            });
        });
    }

    /// <summary>Every <typeparamref name="TObserved"/> seen, in arrival order.</summary>
    public ConcurrentQueue<TObserved> Observed { get; } = new();

    public int TopologyRequests => Volatile.Read(ref _topologyRequests);

    /// <param name="answer">Formations GetTopology is answered with; null: no answer, as if the monitor were down.</param>
    /// <param name="brokerCaFile">The CA of an amqps:// broker, connected to as the services do.</param>
    public static async Task<StandInMonitor<TObserved>> StartAsync(Uri broker, IReadOnlyList<FormationTopologyChanged>? answer = null, string? brokerCaFile = null)
    {
        var monitor = new StandInMonitor<TObserved>(broker, answer, brokerCaFile);
        await monitor._bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return monitor;
    }

    /// <summary>From now on GetTopology is answered with these formations (null: no answer).</summary>
    public void AnswerTopologyWith(params FormationTopologyChanged[]? formations) => _answer = formations;

    public IReadOnlyList<TObserved> ObservedWhere(Func<TObserved, bool> predicate) => Observed.Where(predicate).ToList();

    public Task PublishAsync<T>(T message) where T : class => _bus.Publish(message);

    public async ValueTask DisposeAsync() => await _bus.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
}

using System.Collections.Concurrent;
using MassTransit;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker.Tests;

/// <summary>The test playing the monitor on the real broker: publishes topology, answers GetTopology, records every NodeProbed.</summary>
public sealed class TestMonitor : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private volatile IReadOnlyList<FormationTopologyChanged>? _answer;

    public ConcurrentQueue<NodeProbed> Probes { get; } = new();
    public int TopologyRequests;

    private TestMonitor(Uri broker)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(broker);
            rabbit.ReceiveEndpoint($"test-monitor-{id}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<GetTopology>(async context =>
                {
                    Interlocked.Increment(ref TopologyRequests);
                    if (_answer is { } formations) await context.RespondAsync(new TopologySnapshot(formations));
                });
                endpoint.Handler<NodeProbed>(context =>
                {
                    Probes.Enqueue(context.Message);
                    return Task.CompletedTask;
                });
            });
        });
    }

    public static async Task<TestMonitor> StartAsync(Uri broker)
    {
        var monitor = new TestMonitor(broker);
        await monitor._bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return monitor;
    }

    public void AnswerTopologyWith(params FormationTopologyChanged[]? formations) => _answer = formations;

    public Task PublishAsync<T>(T message) where T : class => _bus.Publish(message);

    public IReadOnlyList<NodeProbed> ProbesOf(long nodeId) => Probes.Where(p => p.Node.NodeId == nodeId).ToList();

    public async ValueTask DisposeAsync() => await _bus.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
}

using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.UriService.Http;
using PgAutoFailover.UriService.Messaging;
using PgAutoFailover.UriService.Topology;
using static PgAutoFailover.UriService.Tests.Snapshots;

namespace PgAutoFailover.UriService.Tests.Unit;

/// <summary>
/// The uri-service's consumers against MassTransit's in-memory test harness (no broker): what each message does to the
/// view, what is published, and that a redelivered message publishes nothing twice. The same consumers over the real
/// broker: <see cref="UriServiceTests"/>.
/// </summary>
public sealed class TopologyConsumersTests : IAsyncLifetime
{
    private ServiceProvider _services = null!;
    private ITestHarness _harness = null!;

    private TopologyView View => _services.GetRequiredService<TopologyView>();

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UnixEpoch))
            .AddSingleton<TopologyView>()
            .AddSingleton(new ConnectionStringTracker(UriEndpoints.Ssl(new UriServiceOptions())))
            .AddSingleton(sp => new UriMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>().Create(new System.Diagnostics.Metrics.MeterOptions("test"))))
            .AddSingleton<TopologyUpdater>()
            .AddMassTransitTestHarness(bus =>
            {
                bus.AddConsumer<FormationTopologyChangedConsumer>();
                bus.AddConsumer<PrimaryChangedConsumer>();
            })
            .BuildServiceProvider(validateScopes: true);
        _harness = _services.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _services.DisposeAsync();
    }

    private async Task DeliverAsync<T>(T message) where T : class
    {
        var before = ConsumedCount<T>();
        await _harness.Bus.Publish(message);
        // Consumed, not only sent: what the consumer did (and published) is there once the harness counts it.
        await Eventually.TrueAsync(() => Task.FromResult(ConsumedCount<T>() > before), $"the {typeof(T).Name} to be consumed");
    }

    private int ConsumedCount<T>() where T : class => _harness.Consumed.Select<T>().Count();

    private Task<List<ConnectionStringChanged>> PublishedChangesAsync() =>
        Task.FromResult(_harness.Published.Select<ConnectionStringChanged>().Select(m => m.Context.Message).ToList());

    [Fact]
    public async Task A_snapshot_names_the_primary_once_even_when_it_is_redelivered()
    {
        var snapshot = Formation("sales", 3, Node(1, NodeState.Primary), Node(2, NodeState.Secondary));
        await DeliverAsync(snapshot);

        var change = Assert.Single(await PublishedChangesAsync());
        Assert.Equal(("sales", 1L, 3L), (change.Formation, change.Primary!.NodeId, change.TopologyVersion));
        Assert.Equal(3, View.Get("sales")!.Version);

        // A broker redelivers after a restart: the consumer is idempotent, nothing is published twice.
        await DeliverAsync(snapshot);
        Assert.Single(await PublishedChangesAsync());
    }

    [Fact]
    public async Task An_older_snapshot_arriving_late_moves_nothing_back()
    {
        await DeliverAsync(Formation("late", 5, Node(2, NodeState.Primary), Node(1, NodeState.Secondary)));
        await DeliverAsync(Formation("late", 4, Node(1, NodeState.Primary), Node(2, NodeState.Secondary)));

        Assert.Equal(5, View.Get("late")!.Version);
        var change = Assert.Single(await PublishedChangesAsync());
        Assert.Equal(2, change.Primary!.NodeId);
    }

    [Fact]
    public async Task PrimaryChanged_fences_the_old_writer_until_a_newer_snapshot_arrives()
    {
        await DeliverAsync(Formation("fence", 1, Node(1, NodeState.Primary), Node(2, NodeState.Secondary)));
        Assert.False(View.IsFencedByPrimaryChange(1));

        var oldPrimary = new NodeAddress("fence", 0, 1, "node_1", "127.0.0.1", 5501);
        var newPrimary = new NodeAddress("fence", 0, 2, "node_2", "127.0.0.1", 5502);
        await DeliverAsync(new PrimaryChanged("fence", 0, oldPrimary, newPrimary, 7, DateTimeOffset.UnixEpoch));
        Assert.True(View.IsFencedByPrimaryChange(1));

        await DeliverAsync(Formation("fence", 2, Node(2, NodeState.Primary), Node(1, NodeState.Demoted)));
        Assert.False(View.IsFencedByPrimaryChange(1));
    }
}

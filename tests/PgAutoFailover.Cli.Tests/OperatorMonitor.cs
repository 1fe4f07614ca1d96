using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// A class fixture: the suite's <see cref="FakeMonitor"/> on its own virtual host, and the environment pgaf needs to
/// reach it.
/// </summary>
public sealed class OperatorMonitor : IAsyncLifetime
{
    private readonly RabbitMqFixture _broker = new();
    private FakeMonitor? _monitor;

    public FakeMonitor Monitor => _monitor ?? throw new InvalidOperationException("the fixture has not started");

    public Uri AmqpUri => _broker.AmqpUri;

    /// <summary>A virtual host on the same broker where nothing answers.</summary>
    public Task<Uri> SilentVirtualHostAsync() => _broker.NewVirtualHostAsync();

    public IReadOnlyList<T> ReceivedOf<T>() => Monitor.ReceivedOf<T>();

    /// <summary>The environment pgaf sees: RABBITMQ_URL points at the fake monitor.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["RABBITMQ_URL"] = AmqpUri.ToString() };

    public async Task InitializeAsync()
    {
        await _broker.InitializeAsync();
        _monitor = await FakeMonitor.StartAsync(_broker.AmqpUri);
    }

    public async Task DisposeAsync()
    {
        if (_monitor is not null) await _monitor.DisposeAsync();
        await _broker.DisposeAsync();
    }
}

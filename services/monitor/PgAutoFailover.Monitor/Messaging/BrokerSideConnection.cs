using PgAutoFailover.ServiceDefaults;
using RabbitMQ.Client;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// One plain RabbitMQ connection of the monitor's beside its bus, opened on first use and again after it closed, for
/// what MassTransit does not declare the way the monitor needs (<see cref="GoalQueues"/>, <see cref="ResponseAddressGuard"/>).
/// </summary>
public sealed class BrokerSideConnection(BusOptions bus) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connect = new(1, 1);
    private IConnection? _connection;

    /// <summary>Raised (once per connection) when the connection closes: what was declared through it is declared again.</summary>
    public event Action? Reopened;

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true } open) return open;
        await _connect.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { IsOpen: true } again) return again;
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                Reopened?.Invoke();
            }
            _connection = await BrokerConnections.OpenAsync(bus, "pgaf-monitor declarations", recover: false, cancellationToken);
            return _connection;
        }
        finally
        {
            _connect.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        _connect.Dispose();
    }
}

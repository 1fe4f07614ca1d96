using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace PgAutoFailover.Cli;

/// <summary>
/// pgaf's started bus and the container MassTransit built it in: through the container
/// <see cref="PgAutoFailover.ServiceDefaults.RefusedPublishRecovery"/> reaches the bus's connection, to reopen it when
/// the broker keeps refusing its requests (docs/operations.md#a-broker-cluster). Disposing stops the bus.
/// </summary>
public sealed class CliBus(IBusControl bus, ServiceProvider services) : IAsyncDisposable
{
    public IBusControl Bus => bus;

    public async ValueTask DisposeAsync()
    {
        await MonitorClient.StopQuietlyAsync(bus);
        await services.DisposeAsync();
    }
}

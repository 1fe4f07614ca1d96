using MassTransit;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>Where the probe results that are due go: the bus in the service, a counter in the benchmark.</summary>
public interface IProbeSink
{
    Task PublishAsync(NodeProbed probe, CancellationToken cancellationToken);
}

/// <summary>Publishes NodeProbed on the bus.</summary>
public sealed class BusProbeSink(IBus bus) : IProbeSink
{
    public Task PublishAsync(NodeProbed probe, CancellationToken cancellationToken) => bus.Publish(probe, cancellationToken);
}

using MassTransit;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// Keeper reports and probes, on the partitions' endpoints: each takes <see cref="MonitorServiceOptions.PartitionConcurrency"/>
/// messages at once (prefetch and concurrency), since a trigger mostly waits on the store and the broker and per-group
/// order is kept by the group's gate.
/// </summary>
public abstract class TriggerConsumerDefinition<TConsumer>(MonitorServiceOptions options) : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<TConsumer> consumer, IRegistrationContext context)
    {
        endpoint.PrefetchCount = options.PartitionConcurrency;
        endpoint.ConcurrentMessageLimit = options.PartitionConcurrency;
    }
}

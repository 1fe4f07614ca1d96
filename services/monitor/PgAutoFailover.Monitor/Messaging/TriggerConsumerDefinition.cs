using MassTransit;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// Keeper reports and probes: each endpoint takes <see cref="MonitorServiceOptions.TriggerConcurrency"/> messages at
/// once (prefetch and concurrency), since a trigger mostly waits on the store and the broker and per-group order
/// is kept by the group's gate.
/// </summary>
public abstract class TriggerConsumerDefinition<TConsumer>(MonitorServiceOptions options) : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<TConsumer> consumer, IRegistrationContext context)
    {
        endpoint.PrefetchCount = options.TriggerConcurrency;
        endpoint.ConcurrentMessageLimit = options.TriggerConcurrency;
    }
}

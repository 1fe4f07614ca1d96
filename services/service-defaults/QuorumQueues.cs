using MassTransit;
using MassTransit.RabbitMqTransport.Configuration;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// Makes every durable queue a service declares a quorum queue, replicated on the broker cluster's nodes, so no queue is
/// lost with a node (docs/operations.md#a-broker-cluster); its _error and _skipped queues follow it. Queues of one
/// process only (reply queues, a health-checker's or uri-service's topology subscription, `pgaf events tail` without
/// --queue) stay classic and non-durable, since a quorum queue is always durable: a process that reconnects declares
/// them again on the node it reaches. Observed after each endpoint's own configuration, so it sees whether the endpoint
/// is temporary.
/// </summary>
public sealed class QuorumQueues : IEndpointConfigurationObserver
{
    public void EndpointConfigured<T>(T configurator) where T : IReceiveEndpointConfigurator
    {
        if (configurator is IRabbitMqReceiveEndpointConfiguration { Settings: { Durable: true, AutoDelete: false, Exclusive: false } }
            && configurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }
    }
}

using PgAutoFailover.Contracts;
using RabbitMQ.Client;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// A keeper's goal queue, keeper-node-{id}: a quorum queue (docs/operations.md#a-broker-cluster) bound to the fanout
/// exchange of the same name, which the monitor sends AssignGoalState to. MassTransit's "queue:" send address would
/// declare the queue classic, so whoever sends goals declares the three with <see cref="DeclareAsync"/> first and sends
/// to <see cref="SendAddress"/>; the keeper's endpoint declares the same quorum queue and binds nothing.
/// </summary>
public static class KeeperGoalQueue
{
    public static Uri SendAddress(long nodeId) => new($"exchange:{BrokerNames.KeeperGoalQueue(nodeId)}");

    public static async Task DeclareAsync(IConnection connection, long nodeId, CancellationToken cancellationToken)
    {
        var name = BrokerNames.KeeperGoalQueue(nodeId);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false,
            new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(name, name, "", cancellationToken: cancellationToken);
    }
}

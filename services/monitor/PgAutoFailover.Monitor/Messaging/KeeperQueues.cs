using PgAutoFailover.Contracts;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// Each keeper consumes AssignGoalState from a queue of its own, named after its node id. The "queue:" address makes
/// the monitor declare the exchange of that name and bind it to the queue: the monitor's broker user may write to it,
/// a keeper's may not (docs/operations.md#broker-users).
/// </summary>
public static class KeeperQueues
{
    public static Uri For(long nodeId) => new($"queue:{BrokerNames.KeeperGoalQueue(nodeId)}");
}

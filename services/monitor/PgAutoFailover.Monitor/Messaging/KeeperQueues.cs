namespace PgAutoFailover.Monitor.Messaging;

/// <summary>Each keeper consumes AssignGoalState from a queue of its own, named after its node id.</summary>
public static class KeeperQueues
{
    public static Uri For(long nodeId) => new($"queue:keeper-node-{nodeId}");
}

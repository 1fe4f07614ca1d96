using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// A keeper's <c>LastError</c> is kept with its liveness (not as a stream event); the monitor says in its own
/// log when it changes, so an operator watching the monitor sees a stuck transition without reading the keeper's log.
/// </summary>
public static class KeeperErrors
{
    /// <summary>Logs a warning when node <paramref name="nodeId"/>'s keeper error differs between the two states, and an information when it cleared.</summary>
    public static void LogChange(ILogger logger, GroupState before, GroupState after, long nodeId)
    {
        if (after.Find(nodeId) is not { } node) return;
        var previous = before.Find(nodeId)?.LastError;
        if (node.LastError == previous) return;
        if (node.LastError is { } error)
        {
            logger.LogWarning("Keeper of node {NodeId} \"{NodeName}\" in {Formation}/{GroupId} reports an error in state {ReportedState} (goal {GoalState}): {LastError}",
                nodeId, node.Name, after.Settings.Formation, after.Settings.GroupId,
                NodeStateNames.Of(node.ReportedState), NodeStateNames.Of(node.GoalState), error);
        }
        else
        {
            logger.LogInformation("Keeper of node {NodeId} \"{NodeName}\" in {Formation}/{GroupId} no longer reports an error (was: {PreviousError})",
                nodeId, node.Name, after.Settings.Formation, after.Settings.GroupId, previous);
        }
    }
}

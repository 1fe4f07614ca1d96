using System.Text.RegularExpressions;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// A keeper's <c>LastError</c> is kept with its liveness (not as a stream event); the monitor says in its own
/// log when it changes, so an operator watching the monitor sees a stuck transition without reading the keeper's log.
/// </summary>
public static partial class KeeperErrors
{
    /// <summary>Logs a warning when node <paramref name="nodeId"/>'s keeper error differs between the two states (in more than its numbers), and an information when it cleared.</summary>
    public static void LogChange(ILogger logger, GroupState before, GroupState after, long nodeId)
    {
        if (after.Find(nodeId) is not { } node) return;
        var previous = before.Find(nodeId)?.LastError;
        if (SameFailure(node.LastError, previous)) return;
        if (node.LastError is { } error)
        {
            Log.KeeperReportsError(logger, nodeId, node.Name, after.Settings.Formation, after.Settings.GroupId, NodeStateNames.Of(node.ReportedState), NodeStateNames.Of(node.GoalState), error);
        }
        else
        {
            Log.KeeperErrorCleared(logger, nodeId, node.Name, after.Settings.Formation, after.Settings.GroupId, previous);
        }
    }

    /// <summary>
    /// Equal but for their numbers. A failing step retried every cycle quotes its tool's output, with fresh
    /// timestamps and PIDs each time ("2026-11-26 02:33:12.123 UTC [4711] FATAL: ..."): that is one failure,
    /// worth one warning, not a warning a second. The state always shows the latest text.
    /// </summary>
    private static bool SameFailure(string? a, string? b) =>
        a is null || b is null ? a == b : Numbers().Replace(a, "0") == Numbers().Replace(b, "0");

    [GeneratedRegex(@"\d+")]
    private static partial Regex Numbers();

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Keeper of node {NodeId} \"{NodeName}\" in {Formation}/{GroupId} reports an error in state {ReportedState} (goal {GoalState}): {LastError}")]
        public static partial void KeeperReportsError(ILogger logger, long nodeId, string nodeName, string formation, int groupId, string reportedState, string goalState, string lastError);

        [LoggerMessage(Level = LogLevel.Information, Message = "Keeper of node {NodeId} \"{NodeName}\" in {Formation}/{GroupId} no longer reports an error (was: {PreviousError})")]
        public static partial void KeeperErrorCleared(ILogger logger, long nodeId, string nodeName, string formation, int groupId, string? previousError);
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>docs/states.md#synchronous_standby_names: the synchronous_standby_names value the monitor hands to the group's primary.</summary>
public static class SyncStandbyNames
{
    /// <summary>Name a standby puts in application_name, which survives renames.</summary>
    public static string StandbyName(long nodeId) => $"pgautofailover_standby_{nodeId}";

    /// <summary>
    /// The value for the group's primary (Primary(G)); "" when there is no primary, the group has one node,
    /// or no standby is eligible. Quorum standbys are ordered by candidate priority, then node id (the spec
    /// asks the port to break ties explicitly).
    /// </summary>
    public static string Compute(GroupState group)
    {
        var nodes = group.Nodes;
        if (nodes.Count <= 1) return "";
        var primary = nodes.FirstOrDefault(n => States.IsWritable(n.GoalState));
        if (primary is null) return "";
        var others = nodes.Where(n => n.NodeId != primary.NodeId).ToList();

        if (nodes.Count == 2)
        {
            var standby = others[0];
            return standby.ReplicationQuorum && standby.GoalState == NodeState.Secondary
                ? $"ANY 1 ({StandbyName(standby.NodeId)})"
                : "";
        }

        var quorum = others.Where(n => n.ReplicationQuorum)
            .OrderByDescending(n => n.CandidatePriority).ThenBy(n => n.NodeId).ToList();
        if (quorum.Count == 0 || primary.IsConverged(NodeState.WaitPrimary)) return "";
        var k = Math.Max(1, group.Settings.NumberSyncStandbys);
        return $"ANY {k} ({string.Join(", ", quorum.Select(n => StandbyName(n.NodeId)))})";
    }
}

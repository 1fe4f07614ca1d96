using PgAutoFailover.Contracts;

namespace PgAutoFailover.UriService.Topology;

/// <summary>What a node is for clients, in the words of the HTTP API.</summary>
public enum NodeRole
{
    /// <summary>The group's writer: reported and goal states both can take writes (docs/states.md#node-states).</summary>
    Primary,
    /// <summary>A streaming standby that has converged (secondary or catchingup, reported == goal).</summary>
    Standby,
    /// <summary>Out of automation.</summary>
    Maintenance,
    /// <summary>Being removed (goal dropped); never listed in connection strings.</summary>
    Dropped,
    /// <summary>Anything else: joining, being demoted, promoting, in an election.</summary>
    Transitioning,
}

/// <summary>Pure role logic over topology snapshots: no I/O, no clock.</summary>
public static class NodeRoles
{
    /// <summary>States in which a node may accept writes (docs/states.md#node-states).</summary>
    public static bool CanTakeWrites(NodeState state) =>
        state is NodeState.Single or NodeState.WaitPrimary or NodeState.Primary or NodeState.JoinPrimary or NodeState.ApplySettings;

    /// <summary>Both what the keeper reported and what the monitor assigned can take writes: stop_replication, draining, demote_timeout never can.</summary>
    public static bool IsWriterState(NodeSnapshot node) => CanTakeWrites(node.ReportedState) && CanTakeWrites(node.GoalState);

    /// <summary>Converged streaming standby.</summary>
    public static bool IsStreamingStandby(NodeSnapshot node) =>
        node.ReportedState == node.GoalState && node.ReportedState is NodeState.Secondary or NodeState.CatchingUp;

    /// <summary>Goal dropped: excluded from "the nodes of a group" (docs/states.md#node-states).</summary>
    public static bool IsDropped(NodeSnapshot node) => node.GoalState == NodeState.Dropped;

    /// <summary>Not judged bad by the monitor and PostgreSQL reported running by its keeper.</summary>
    public static bool IsHealthy(NodeSnapshot node) => node.Health != NodeHealth.Bad && node.PgIsRunning;

    /// <summary>
    /// The writer of one group, or null. When more than one node looks writable (never expected),
    /// none is named: routing writes to two nodes is worse than routing them nowhere.
    /// </summary>
    public static NodeSnapshot? Writer(IEnumerable<NodeSnapshot> nodes, int groupId)
    {
        NodeSnapshot? writer = null;
        foreach (var node in nodes)
        {
            if (node.Node.GroupId != groupId || IsDropped(node) || !IsWriterState(node)) continue;
            if (writer is not null) return null;
            writer = node;
        }
        return writer;
    }

    public static NodeRole RoleOf(NodeSnapshot node, IReadOnlyList<NodeSnapshot> formationNodes)
    {
        if (IsDropped(node)) return NodeRole.Dropped;
        if (Writer(formationNodes, node.Node.GroupId)?.Node.NodeId == node.Node.NodeId) return NodeRole.Primary;
        if (IsStreamingStandby(node)) return NodeRole.Standby;
        if (node.ReportedState == NodeState.Maintenance || node.GoalState == NodeState.Maintenance) return NodeRole.Maintenance;
        return NodeRole.Transitioning;
    }

    /// <summary>HAProxy /primary: the group's writer and healthy.</summary>
    public static bool PassesPrimaryCheck(NodeSnapshot node, IReadOnlyList<NodeSnapshot> formationNodes) =>
        RoleOf(node, formationNodes) == NodeRole.Primary && IsHealthy(node);

    /// <summary>HAProxy /replica: a converged streaming standby and healthy.</summary>
    public static bool PassesReplicaCheck(NodeSnapshot node) => !IsDropped(node) && IsStreamingStandby(node) && IsHealthy(node);

    public static string Name(NodeRole role) => role switch
    {
        NodeRole.Primary => "primary",
        NodeRole.Standby => "standby",
        NodeRole.Maintenance => "maintenance",
        NodeRole.Dropped => "dropped",
        _ => "transitioning",
    };
}

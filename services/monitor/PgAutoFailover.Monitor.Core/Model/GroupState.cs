using System.Collections.Immutable;

namespace PgAutoFailover.Monitor.Core.Model;

/// <summary>
/// Everything the monitor knows about one group. Immutable: rebuilt by folding the group's domain events
/// with <see cref="GroupProjection.Apply"/>.
/// </summary>
/// <param name="Settings">Formation settings.</param>
/// <param name="AllNodes">Every node row, including nodes whose goal is dropped (until removed), by node id.</param>
/// <param name="MonitorStartedAt">When this monitor instance started serving the group (startup grace, docs/states.md#health).</param>
/// <param name="Failover">The failover in progress, if any.</param>
/// <param name="RemovedStreamingUntil">
/// Latest moment a node removed from the group may have streamed from the primary: its replies may keep a
/// lease-expired primary serving, so the lease rule keeps counting it after the row is gone.
/// </param>
/// <param name="FailoverBlockedReason">Why no failover can happen although the primary is unhealthy, as last said
/// (<see cref="Events.FailoverBlockedChanged"/>); null when nothing blocks one.</param>
public sealed record GroupState(
    GroupSettings Settings,
    ImmutableSortedDictionary<long, MonitorNode> AllNodes,
    DateTimeOffset MonitorStartedAt,
    FailoverInProgress? Failover,
    DateTimeOffset? RemovedStreamingUntil = null,
    string? FailoverBlockedReason = null)
{
    /// <summary>A group with no node.</summary>
    public static GroupState Empty(GroupSettings settings, DateTimeOffset monitorStartedAt) =>
        new(settings, ImmutableSortedDictionary<long, MonitorNode>.Empty, monitorStartedAt, null);

    /// <summary>"Nodes of the group" (docs/states.md#node-states): goal not dropped, by node id.</summary>
    public IReadOnlyList<MonitorNode> Nodes => [.. AllNodes.Values.Where(n => n.GoalState != Contracts.NodeState.Dropped)];

    /// <summary>Node by id, or null.</summary>
    public MonitorNode? Find(long nodeId) => AllNodes.GetValueOrDefault(nodeId);

    /// <summary>Node by id; throws when absent (internal use after validation).</summary>
    public MonitorNode this[long nodeId] => AllNodes[nodeId];

    /// <summary>
    /// The state to decide from after the service rebuilt the group from its stored events (monitor restart,
    /// or another instance taking over). Liveness-only events may be missing from the store, so this is
    /// deliberately pessimistic: every node may hold a lease and may be streaming until
    /// <paramref name="now"/> + lease, and health is unknown again. The startup grace period restarts at
    /// <paramref name="now"/>, unless <paramref name="startedAt"/> says when this instance started on the group: an
    /// instance that reloads because another one advanced the stream has its own probe history behind it, and its
    /// reset health still needs fresh failed probes before a node is unhealthy (docs/operations.md#several-monitors).
    /// </summary>
    public GroupState Restarted(DateTimeOffset now, MonitorOptions options, DateTimeOffset? startedAt = null)
    {
        var until = now + options.PrimaryLease;
        var nodes = AllNodes.ToImmutableSortedDictionary(
            kv => kv.Key,
            kv => kv.Value with
            {
                LeaseExpiresAt = Max(kv.Value.LeaseExpiresAt, until),
                StreamingUntil = Max(kv.Value.StreamingUntil, until),
                Health = Contracts.NodeHealth.Unknown,
                ConsecutiveProbeFailures = 0,
            });
        return this with { AllNodes = nodes, MonitorStartedAt = startedAt ?? now };
    }

    private static DateTimeOffset Max(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;
}

/// <summary>A failover, switchover or promotion under way (for FailoverStarted / FailoverCompleted).</summary>
/// <param name="FailoverId">Id shared by the started and completed notifications.</param>
/// <param name="OldPrimaryId">Primary being replaced, if any.</param>
/// <param name="Reason">Why it started.</param>
/// <param name="Planned">Operator-requested.</param>
/// <param name="StartedAt">Monitor time it started.</param>
public sealed record FailoverInProgress(Guid FailoverId, long? OldPrimaryId, string Reason, bool Planned, DateTimeOffset StartedAt);

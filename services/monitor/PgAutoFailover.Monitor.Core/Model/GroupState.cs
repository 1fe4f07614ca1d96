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
    /// The state to decide from after a monitor (re)started and rebuilt the group from its stored events.
    /// Liveness-only events may be missing from the store, so this is deliberately pessimistic: every node may hold
    /// a lease and may be streaming until <paramref name="now"/> + lease, and health is unknown again, as what was
    /// stored may be old. The startup grace period starts at <paramref name="now"/>.
    /// </summary>
    public GroupState Restarted(DateTimeOffset now, MonitorOptions options)
    {
        var assumed = AssumeLeasesRun(now, options);
        var nodes = assumed.AllNodes.ToImmutableSortedDictionary(
            kv => kv.Key, kv => kv.Value with { Health = Contracts.NodeHealth.Unknown, ConsecutiveProbeFailures = 0 });
        return assumed with { AllNodes = nodes, MonitorStartedAt = now };
    }

    /// <summary>
    /// The state to decide from after a running instance reloaded the group because another instance advanced its
    /// stream or held it before (docs/architecture.md#groups-spread-over-monitors). What safety needs is in the store:
    /// every lease was stored before the keeper was answered, and every start or stop of a node's streaming is a durable
    /// report; so a node stored as not streaming stopped when the store says. A node stored as streaming may have
    /// streamed until now, its later reports unstored: it is assumed to stream one lease more, as after a restart, until
    /// it reports again. (Assuming every lease ran one more as well cost a failover whose holder died in it a second
    /// and more: the lease of the dead primary was pushed a full lease past the takeover.) Health is kept as stored:
    /// every verdict flip is a durable event, so the stream holds the latest verdict of whichever instance made it, and
    /// this instance has been receiving its share of the probes all along. Resetting it (as this did once) made every
    /// reload a flip back to "good" at the next probe, a durable event that made the other instances reload in turn,
    /// without end. <paramref name="startedAt"/>, when this instance started on the group, keeps the startup grace from
    /// starting again. A monitor of an earlier version stored no streaming stops: run no such instance beside this one.
    /// </summary>
    public GroupState ReloadedWhileRunning(DateTimeOffset now, MonitorOptions options, DateTimeOffset startedAt)
    {
        var until = now + options.PrimaryLease;
        var nodes = AllNodes.ToImmutableSortedDictionary(
            kv => kv.Key,
            kv => kv.Value.ReportedStreaming ? kv.Value with { StreamingUntil = Max(kv.Value.StreamingUntil, until) } : kv.Value);
        return this with { AllNodes = nodes, MonitorStartedAt = startedAt };
    }

    private GroupState AssumeLeasesRun(DateTimeOffset now, MonitorOptions options)
    {
        var until = now + options.PrimaryLease;
        var nodes = AllNodes.ToImmutableSortedDictionary(
            kv => kv.Key,
            kv => kv.Value with
            {
                LeaseExpiresAt = Max(kv.Value.LeaseExpiresAt, until),
                StreamingUntil = Max(kv.Value.StreamingUntil, until),
            });
        return this with { AllNodes = nodes };
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

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core.Events;

/// <summary>
/// A domain event of one group's stream. The group state is exactly the fold of its events with
/// <see cref="GroupProjection.Apply"/>; every decision the core takes is a list of these.
/// </summary>
public interface IGroupEvent
{
    /// <summary>Monitor time of the event.</summary>
    DateTimeOffset At { get; }

    /// <summary>
    /// True when the event only refreshes liveness (report time, LSN, probe counters) and changes no state,
    /// goal, health verdict or setting. The service may store such events outside the versioned stream (for
    /// example, upsert the latest one per node) and need not publish them; it must still apply them to the
    /// state it decides from. After a rebuild that may miss some, call <see cref="GroupState.Restarted"/>.
    /// </summary>
    bool LivenessOnly => false;
}

/// <summary>The group's stream starts: formation settings.</summary>
public sealed record GroupCreated(GroupSettings Settings, DateTimeOffset At) : IGroupEvent;

/// <summary>A node was registered (REG-8).</summary>
public sealed record NodeJoined(
    long NodeId, string Name, string Host, int Port, ulong? SystemIdentifier,
    int CandidatePriority, bool ReplicationQuorum, NodeState InitialReportedState, DateTimeOffset At) : IGroupEvent;

/// <summary>
/// A keeper report was accepted (docs/architecture.md#messages step 4). <see cref="StateChanged"/> when the reported state or
/// pg-is-running flag differs from the stored one; <see cref="StreamingChanged"/> when the node starts or stops counting
/// as streaming from the primary (its WAL receiver connected or not, in a streaming state). Either makes the report
/// durable; otherwise it is liveness only (a new <see cref="LastError"/> or <see cref="Progress"/> alone does not make
/// it an event). A stored stop of streaming is what lets an instance taking the group over trust when the node last
/// streamed (<see cref="Model.GroupState.ReloadedWhileRunning"/>).
/// </summary>
public sealed record NodeReported(
    long NodeId, NodeState ReportedState, bool PgIsRunning, int Timeline, ulong Lsn, string ReplicationState,
    TimeSpan? SyncStandbyReplyAge, long Sequence, bool StateChanged, DateTimeOffset At,
    string? LastError = null, string? Progress = null, long Epoch = 0, TimeSpan? UnacknowledgedWalAge = null,
    bool StreamingChanged = false) : IGroupEvent
{
    /// <inheritdoc />
    public bool LivenessOnly => !StateChanged && !StreamingChanged;

    /// <summary>Whether the report says the node streams from the primary now (the projection's ReportedStreaming).</summary>
    public static bool SaysStreaming(NodeState state, string replicationState) =>
        States.IsStreaming(state) && replicationState != States.StandbyNotStreaming;
}

/// <summary>A probe result was recorded; liveness only unless it flipped the health (then a <see cref="NodeHealthMarked"/> follows).</summary>
public sealed record ProbeRecorded(long NodeId, bool Succeeded, string? Error, int ConsecutiveFailures, DateTimeOffset At) : IGroupEvent
{
    /// <inheritdoc />
    public bool LivenessOnly => true;
}

/// <summary>The monitor's health verdict on a node flipped.</summary>
public sealed record NodeHealthMarked(long NodeId, NodeHealth Health, string Reason, DateTimeOffset At) : IGroupEvent;

/// <summary>A goal state was assigned by the named rule; <see cref="Description"/> is what show events prints.</summary>
public sealed record GoalAssigned(long NodeId, NodeState PreviousGoal, NodeState Goal, string Rule, string Description, DateTimeOffset At) : IGroupEvent;

/// <summary>
/// A write lease was granted to a node with a writable goal, in reply to its report <see cref="ReportSequence"/>.
/// Never liveness only: a lost grant would let a rebuilt monitor promote too early.
/// </summary>
public sealed record LeaseGranted(long NodeId, long ReportSequence, TimeSpan Duration, DateTimeOffset ExpiresAt, DateTimeOffset At) : IGroupEvent;

/// <summary>Candidate priority changed (operator, or the perform_promotion / perform_failover adjustments).</summary>
public sealed record CandidatePriorityChanged(long NodeId, int CandidatePriority, string Reason, DateTimeOffset At) : IGroupEvent;

/// <summary>Replication quorum flag changed.</summary>
public sealed record ReplicationQuorumChanged(long NodeId, bool ReplicationQuorum, DateTimeOffset At) : IGroupEvent;

/// <summary>
/// A node was renamed or re-addressed (update_node_metadata); the values before are kept for show events.
/// </summary>
public sealed record NodeMetadataChanged(
    long NodeId, string Name, string Host, int Port, string PreviousName, string PreviousHost, int PreviousPort, DateTimeOffset At) : IGroupEvent;

/// <summary>
/// Whether a failover away from an unhealthy primary can happen changed: <see cref="Reason"/> says why it cannot (every
/// standby has candidate priority 0), null once nothing blocks one again. Said once per change, not per tick.
/// </summary>
public sealed record FailoverBlockedChanged(string? Reason, DateTimeOffset At) : IGroupEvent;

/// <summary>number_sync_standbys changed (operator, REG-9 auto-bump or removal adjustment).</summary>
public sealed record NumberSyncStandbysChanged(int NumberSyncStandbys, string Reason, DateTimeOffset At) : IGroupEvent;

/// <summary>An operator paused (Enabled false) or resumed automatic failover for the group.</summary>
public sealed record AutomaticFailoverChanged(bool Enabled, string Reason, DateTimeOffset At) : IGroupEvent;

/// <summary>The node row was deleted (GSM-1, or a forced drop).</summary>
public sealed record NodeRemoved(long NodeId, string Reason, DateTimeOffset At) : IGroupEvent;

/// <summary>A failover, switchover or promotion started.</summary>
public sealed record FailoverBegan(Guid FailoverId, long? OldPrimaryId, string Reason, bool Planned, DateTimeOffset At) : IGroupEvent;

/// <summary>The failover's new primary reached a writable goal.</summary>
public sealed record FailoverEnded(Guid FailoverId, long NewPrimaryId, DateTimeOffset At) : IGroupEvent;

/// <summary>The formation's database name was adopted from the first node (REG-3).</summary>
public sealed record DatabaseNameAdopted(string DatabaseName, DateTimeOffset At) : IGroupEvent;

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;

namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// The outcome of <see cref="MonitorCore.Decide"/>: the domain events to append (in order; fold them with
/// <see cref="GroupProjection.Apply"/>), the goal assignments they contain, notices for the log, and a
/// refusal when the trigger was rejected (then <see cref="Events"/> is empty and nothing changed).
/// <see cref="WakeAt"/>: the earliest instant at which the group may be decided differently: when time alone changes
/// it (a candidate waiting for the old primary's lease), or at once when a node's new state may let another node's
/// rule act; the service decides again (a timer trigger) then, instead of at its next timer tick.
/// </summary>
public sealed record Decision(
    IReadOnlyList<IGroupEvent> Events,
    IReadOnlyList<GoalAssignment> Assignments,
    IReadOnlyList<string> Notices,
    Refusal? Refusal,
    DateTimeOffset? WakeAt = null)
{
    /// <summary>True when the trigger was accepted.</summary>
    public bool Accepted => Refusal is null;

    /// <summary>A refusal: no events.</summary>
    public static Decision Refused(Refusal refusal) => new([], [], [], refusal);
}

/// <summary>One goal assignment and why (the text show events prints).</summary>
public sealed record GoalAssignment(long NodeId, NodeState PreviousGoal, NodeState Goal, NodeState ReportedState, string Rule, string Description);

/// <summary>Why a trigger was rejected. <see cref="Retryable"/>: the caller may retry later (e.g. REG-6 "object in use").</summary>
public sealed record Refusal(RefusalKind Kind, string Reason, bool Retryable = false);

/// <summary>Refusal categories, for the service to map to replies.</summary>
public enum RefusalKind
{
    /// <summary>The node id is not in the group.</summary>
    UnknownNode,
    /// <summary>A report with a sequence already seen (duplicate or out of order).</summary>
    StaleReport,
    /// <summary>A report from a node that is being dropped or was removed.</summary>
    DroppedNode,
    /// <summary>A reported state the node cannot be in given its goal (impossible pair).</summary>
    ImpossibleState,
    /// <summary>The registration is invalid.</summary>
    RegistrationRejected,
    /// <summary>An operator command is not possible now.</summary>
    CommandRefused,
    /// <summary>The group has no primary and no failover in progress (GSM-7); the keeper retries.</summary>
    NoPrimary,
    /// <summary>A bug in the core: an unexpected exception was caught and turned into a refusal.</summary>
    InternalError,
}

using PgAutoFailover.Contracts;

namespace PgAutoFailover.Keeper.Core;

/// <summary>What the actor knows when it takes a step: the state file, the monitor's word, PostgreSQL and the lease, the time.</summary>
/// <param name="Current">The state the node last reached (state file).</param>
/// <param name="Assigned">The goal the monitor assigned (state file).</param>
/// <param name="GoalConfirmed">A goal came from the monitor in this process (safety rule 5: before that, nothing happens).</param>
/// <param name="MonitorReachedRecently">A report was answered within three loop periods plus the monitor timeout.</param>
/// <param name="PostgresRunning">The postmaster is alive.</param>
/// <param name="Now">Monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/>).</param>
/// <param name="LeaseExpiresAt">Monotonic expiry of the primary lease held, or null.</param>
/// <param name="ExitWhenConverged">keeper create: stop once the first goal is reached.</param>
public sealed record ActorInput(
    NodeState Current,
    NodeState Assigned,
    bool GoalConfirmed,
    bool MonitorReachedRecently,
    bool PostgresRunning,
    long Now,
    long? LeaseExpiresAt,
    bool ExitWhenConverged = false)
{
    public bool LeaseHeld => LeaseExpiresAt is { } expiry && Now < expiry;
}

/// <summary>The kinds of step the actor can take (docs/states.md#the-keepers-step).</summary>
public enum ActorStepKind
{
    /// <summary>Nothing to do now: the monitor has not spoken, or has not been reached lately while converged.</summary>
    Wait,
    /// <summary>keeper create reached its first goal: stop the process.</summary>
    FinishCreate,
    /// <summary>Converged: check that PostgreSQL is as the current state wants it (start, follow a moved primary, set sync names).</summary>
    Check,
    /// <summary>Run the transition row towards the goal.</summary>
    Transition,
    /// <summary>The step would make PostgreSQL writable without a lease in hand (safety rule 3): ask for one and wait.</summary>
    WaitForLease,
    /// <summary>No row of the transition table leads from the current state to the goal.</summary>
    Unknown,
}

/// <summary>One step of the actor: what to do, and why.</summary>
/// <param name="Row">The transition to run (<see cref="ActorStepKind.Transition"/>).</param>
/// <param name="RestartsWriter">A <see cref="ActorStepKind.Check"/> that starts a writable PostgreSQL again (restart damping counts its failures).</param>
public sealed record ActorStep(ActorStepKind Kind, string Reason, Transition? Row = null, bool RestartsWriter = false)
{
    public override string ToString() => Row is null ? $"{Kind}: {Reason}" : $"{Kind} {Row.Id}: {Reason}";
}

/// <summary>
/// The keeper's decisions as pure functions (docs/states.md#the-keepers-step): no I/O, no clock of their own, no
/// state kept between calls. The hosted loop (services/keeper/.../Loop) gathers the inputs, calls these and runs
/// what they return; <see cref="Fencing.Decide"/> is the watch's decision, <see cref="TransitionTable"/> the plans.
/// </summary>
public static class KeeperCore
{
    /// <summary>The actor's next step.</summary>
    public static ActorStep Next(ActorInput input)
    {
        if (!input.GoalConfirmed) return new(ActorStepKind.Wait, "the monitor has not assigned a goal to this process yet");
        if (input.Current == input.Assigned)
        {
            if (input.ExitWhenConverged) return new(ActorStepKind.FinishCreate, $"reached {KeeperStates.Name(input.Current)}: create is done");
            if (!input.MonitorReachedRecently) return new(ActorStepKind.Wait, "converged, and the monitor was not reached lately");
            var restartsWriter = KeeperStates.IsWritable(input.Current) && !input.PostgresRunning;
            if (restartsWriter && !input.LeaseHeld) return WaitForLease;
            return new(ActorStepKind.Check, $"converged at {KeeperStates.Name(input.Current)}", RestartsWriter: restartsWriter);
        }
        if (TransitionTable.Find(input.Current, input.Assigned) is not { } row)
        {
            return new(ActorStepKind.Unknown,
                $"keeper does not know how to reach state \"{KeeperStates.Name(input.Assigned)}\" from \"{KeeperStates.Name(input.Current)}\"");
        }
        if (KeeperStates.IsWritable(row.To) && !KeeperStates.IsWritable(input.Current) && !input.LeaseHeld) return WaitForLease;
        return new(ActorStepKind.Transition, row.Comment, row);
    }

    private static readonly ActorStep WaitForLease =
        new(ActorStepKind.WaitForLease, "waiting for a primary lease from the monitor before taking writes");

    /// <summary>
    /// How long the reporter waits between reports: a writer renews its lease every third of it, so one or two lost
    /// renewals never let it lapse; every other node reports every loop period.
    /// </summary>
    public static TimeSpan ReportPeriod(NodeState current, TimeSpan leaseDuration, TimeSpan loopPeriod)
    {
        var renewal = leaseDuration / 3;
        return KeeperStates.IsWritable(current) && renewal < loopPeriod ? renewal : loopPeriod;
    }

    /// <summary>
    /// Whether a standby reports at once: its WAL receiver stopped (its primary died or was cut off) or started
    /// streaming since the last sample; the monitor counts the old primary's lease from the report that says so.
    /// </summary>
    public static bool ReportReceiverChange(bool? wasStreaming, bool streaming) => wasStreaming is { } was && was != streaming;

    /// <summary>
    /// An age of unacknowledged WAL at or above this in the last report is one the monitor may be acting on: it holds a
    /// standby in catchingup while its primary's WAL waits sync_ack_timeout (2 s by default), and turns synchronous
    /// replication off past it. Well above what a healthy synchronous standby leaves pending (milliseconds), so that a
    /// busy primary does not report twice as often.
    /// </summary>
    public static readonly TimeSpan AcknowledgementStallReported = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Whether a writer reports at once because a standby acknowledged its WAL again: its last report said WAL had waited
    /// at least <see cref="AcknowledgementStallReported"/>, and now nothing waits that long. A rejoining standby becomes a
    /// secondary only once its primary reports that (GSM-16): at the end of the primary's period, up to a second, before.
    /// </summary>
    public static bool ReportAcknowledgementsResumed(TimeSpan? reportedAge, TimeSpan? currentAge) =>
        reportedAge >= AcknowledgementStallReported && !(currentAge >= AcknowledgementStallReported);

    /// <summary>What to do with a goal that arrived (pushed, or in the reply to a report).</summary>
    /// <param name="assigned">The goal the state file holds.</param>
    /// <param name="goal">The goal that arrived.</param>
    /// <param name="firstWord">No goal came from the monitor in this process before.</param>
    /// <param name="superseded">A reply to a report sent before a later push or a fence: its goal may be older than the one held.</param>
    public static GoalIntake TakeGoal(NodeState assigned, NodeState goal, bool firstWord, bool superseded)
    {
        if (superseded) return GoalIntake.Ignore;
        // The actor does nothing until the monitor has spoken: the first goal starts it even when it is the one the
        // state file already holds (a new node's first goal came with its registration).
        return goal != assigned ? GoalIntake.TakeChanged : firstWord ? GoalIntake.TakeAndWake : GoalIntake.Take;
    }
}

/// <summary>The outcome of <see cref="KeeperCore.TakeGoal"/>.</summary>
public enum GoalIntake
{
    /// <summary>Keep the goal held (its lease is still taken).</summary>
    Ignore,
    /// <summary>Record it; the actor has nothing new to do.</summary>
    Take,
    /// <summary>Record it and wake the actor: the monitor has spoken for the first time in this process.</summary>
    TakeAndWake,
    /// <summary>Record it and wake the actor: a new goal.</summary>
    TakeChanged,
}

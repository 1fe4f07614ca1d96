using PgAutoFailover.Contracts;

namespace PgAutoFailover.Keeper.Core;

/// <summary>What the fencing check concludes.</summary>
public enum FenceDecision
{
    /// <summary>Not a writer, or PostgreSQL is down: nothing to fence.</summary>
    NotApplicable,
    /// <summary>The lease is valid: keep serving.</summary>
    LeaseValid,
    /// <summary>The lease expired but a standby replied within the window (safety rule 7, docs/architecture.md#safety-rules): keep serving.</summary>
    StandbyStreaming,
    /// <summary>Lease expired and no standby replied recently: stop taking writes, then stop PostgreSQL.</summary>
    Fence,
}

/// <summary>Inputs of the fencing decision, all on the keeper's monotonic clock (Stopwatch ticks of <see cref="TimeProvider.GetTimestamp"/>).</summary>
/// <param name="Now">Current monotonic timestamp.</param>
/// <param name="CurrentState">State the keeper last reached.</param>
/// <param name="PostgresRunning">Whether PostgreSQL runs.</param>
/// <param name="LeaseExpiresAt">Monotonic expiry of the best lease held (send time of the report + duration), or null when none was granted in this process.</param>
/// <param name="LastStandbyReplyAt">Monotonic moment at which a standby's reply_time was last seen advancing, or null.</param>
/// <param name="StandbyReplyWindow">"Recently" of safety rule 3 (docs/architecture.md#safety-rules): the lease length L.</param>
public sealed record FenceInput(
    long Now,
    NodeState CurrentState,
    bool PostgresRunning,
    long? LeaseExpiresAt,
    long? LastStandbyReplyAt,
    TimeSpan StandbyReplyWindow);

/// <summary>
/// The primary's lease (safety rule 3, docs/architecture.md#safety-rules), as a pure function. The keeper counts a lease from the
/// moment it SENT the report the lease answers, so its own expiry is never later than the monitor's.
/// A writer whose lease has expired keeps serving only while a standby is still replying (then the
/// monitor cannot have promoted it: the candidate would have stopped replicating, and the monitor
/// counts the margin from that moment); otherwise it fences itself.
/// </summary>
public static class Fencing
{
    public static FenceDecision Decide(FenceInput input, TimeProvider clock)
    {
        if (!KeeperStates.IsWritable(input.CurrentState) || !input.PostgresRunning) return FenceDecision.NotApplicable;
        if (input.LeaseExpiresAt is { } expiry && input.Now < expiry) return FenceDecision.LeaseValid;
        if (input.LastStandbyReplyAt is { } reply && clock.GetElapsedTime(reply, input.Now) < input.StandbyReplyWindow)
        {
            return FenceDecision.StandbyStreaming;
        }
        return FenceDecision.Fence;
    }

    /// <summary>Expiry of a lease granted for a report sent at <paramref name="sentAt"/>: sentAt + duration, in monotonic ticks.</summary>
    public static long ExpiryOf(long sentAt, TimeSpan duration, TimeProvider clock) =>
        sentAt + (long)(duration.TotalSeconds * clock.TimestampFrequency);
}

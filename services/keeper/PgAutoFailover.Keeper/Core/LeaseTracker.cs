using PgAutoFailover.Contracts;

namespace PgAutoFailover.Keeper.Core;

/// <summary>
/// Bookkeeping of the primary lease and of goal freshness, on the keeper's monotonic clock (pure:
/// no I/O; not thread-safe, the loop calls it under its lock).
/// <list type="bullet">
/// <item>Each report's send time is remembered by sequence; a lease counts from the send time of the
/// report it answers (never from when the reply arrived), and the latest expiry wins.</item>
/// <item>A reply to a report sent before a pushed goal (or before the keeper fenced itself) carries a
/// goal that may already be superseded: its goal is not taken (its lease still is).</item>
/// </list>
/// </summary>
public sealed class LeaseTracker(TimeProvider clock)
{
    private const int Remembered = 600;
    private readonly Dictionary<long, long> _sentAt = [];
    private long _goalsValidFrom = long.MinValue;

    /// <summary>Monotonic expiry of the best lease held, or null.</summary>
    public long? ExpiresAt { get; private set; }

    /// <summary>
    /// Length of the last lease granted: the "recently" window for standby replies. Until the first grant of this
    /// process, the monitor's default lease (1.5 s): a keeper restarted beside a running primary keeps serving on its
    /// standbys' replies only as long as the monitor counts on, never the 10 s this once defaulted to (the monitor
    /// waits L + margin after a candidate stops replicating, not 10 s). A monitor configured with a longer lease
    /// only makes this window cautious.
    /// </summary>
    public TimeSpan Duration { get; private set; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>Records that report <paramref name="sequence"/> is being sent now; returns the send timestamp.</summary>
    public long ReportSent(long sequence)
    {
        var now = clock.GetTimestamp();
        _sentAt[sequence] = now;
        if (_sentAt.Count > Remembered)
        {
            foreach (var old in _sentAt.Keys.Where(k => k <= sequence - Remembered).ToList()) _sentAt.Remove(old);
        }
        return now;
    }

    /// <summary>Takes the lease of a goal (reply or push). Unknown sequences (e.g. from a previous process) grant nothing.</summary>
    public void Granted(PrimaryLease? lease)
    {
        if (lease is null || !_sentAt.TryGetValue(lease.ReportSequence, out var sentAt)) return;
        var expiry = Fencing.ExpiryOf(sentAt, lease.Duration, clock);
        if (ExpiresAt is null || expiry > ExpiresAt) ExpiresAt = expiry;
        Duration = lease.Duration;
    }

    /// <summary>
    /// Takes over the lease of the keeper process that ran before this one (restarted within its lease): the same
    /// lease, with the same expiry, so the monitor's reckoning of it holds.
    /// </summary>
    public void Inherit(long expiresAt)
    {
        if (ExpiresAt is null || expiresAt > ExpiresAt) ExpiresAt = expiresAt;
    }

    /// <summary>Whether the goal in a reply to a report sent at <paramref name="sentAt"/> may be taken.</summary>
    public bool ReplyGoalIsCurrent(long sentAt) => sentAt >= _goalsValidFrom;

    /// <summary>A goal was pushed: replies to reports sent before now carry older goals.</summary>
    public void GoalPushed() => _goalsValidFrom = clock.GetTimestamp();

    /// <summary>The keeper fenced itself: the lease is gone and older replies must not restart PostgreSQL.</summary>
    public void Fenced()
    {
        _goalsValidFrom = clock.GetTimestamp();
        ExpiresAt = null;
    }
}

/// <summary>When a standby last replied, judged by its pg_stat_replication.reply_time advancing (no cross-machine clock comparison).</summary>
public sealed class StandbyReplyTracker(TimeProvider clock)
{
    private readonly Dictionary<string, DateTimeOffset> _lastReplyTime = [];

    /// <summary>Monotonic moment at which some streaming standby's reply_time was last seen to advance.</summary>
    public long? LastReplyAt { get; private set; }

    public void Observe(IEnumerable<(string ApplicationName, string State, DateTimeOffset? ReplyTime)> standbys)
    {
        foreach (var (name, state, replyTime) in standbys)
        {
            if (state != "streaming" || replyTime is not { } reply) continue;
            if (_lastReplyTime.TryGetValue(name, out var seen) && reply <= seen) continue;
            _lastReplyTime[name] = reply;
            LastReplyAt = clock.GetTimestamp();
        }
    }
}

using Microsoft.Extensions.Time.Testing;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;

namespace PgAutoFailover.Keeper.Tests.Unit;

public sealed class LeaseTrackerTests
{
    private static readonly TimeSpan L = TimeSpan.FromSeconds(3);
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void A_lease_counts_from_the_send_time_of_its_report_and_the_latest_expiry_wins()
    {
        var leases = new LeaseTracker(_clock);
        var sent1 = leases.ReportSent(1);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var sent2 = leases.ReportSent(2);
        _clock.Advance(TimeSpan.FromSeconds(1)); // replies arrive late, out of order
        leases.Granted(new PrimaryLease(L, 2));
        leases.Granted(new PrimaryLease(L, 1));
        Assert.Equal(Fencing.ExpiryOf(sent2, L, _clock), leases.ExpiresAt);
        Assert.True(leases.ExpiresAt > Fencing.ExpiryOf(sent1, L, _clock));
        Assert.Equal(L, leases.Duration);
    }

    [Fact]
    public void A_restarted_keeper_inherits_the_previous_lease_and_counts_replies_over_the_monitors_default_lease_until_granted()
    {
        var leases = new LeaseTracker(_clock);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), leases.Duration);
        var inherited = _clock.GetTimestamp() + _clock.TimestampFrequency; // 1 s left of the previous keeper's lease
        leases.Inherit(inherited);
        Assert.Equal(inherited, leases.ExpiresAt);
        leases.Inherit(inherited - 10); // an older one never shortens it
        Assert.Equal(inherited, leases.ExpiresAt);
        Assert.Equal(FenceDecision.LeaseValid, Fencing.Decide(new FenceInput(_clock.GetTimestamp(), NodeState.Primary, true, leases.ExpiresAt, null, leases.Duration), _clock));

        _clock.Advance(TimeSpan.FromSeconds(2)); // expired; the last standby reply 1.6 s ago is too old for the default window
        var reply = _clock.GetTimestamp() - (long)(1.6 * _clock.TimestampFrequency);
        Assert.Equal(FenceDecision.Fence, Fencing.Decide(new FenceInput(_clock.GetTimestamp(), NodeState.Primary, true, leases.ExpiresAt, reply, leases.Duration), _clock));
    }

    [Fact]
    public void A_lease_for_an_unknown_report_grants_nothing()
    {
        var leases = new LeaseTracker(_clock);
        leases.Granted(new PrimaryLease(L, 41)); // e.g. answered to the previous process
        Assert.Null(leases.ExpiresAt);
        leases.Granted(null);
        Assert.Null(leases.ExpiresAt);
    }

    [Fact]
    public void Replies_to_reports_sent_before_a_push_or_a_fence_carry_stale_goals()
    {
        var leases = new LeaseTracker(_clock);
        var before = leases.ReportSent(1);
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        leases.GoalPushed();
        Assert.False(leases.ReplyGoalIsCurrent(before));
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        var after = leases.ReportSent(2);
        Assert.True(leases.ReplyGoalIsCurrent(after));

        leases.Granted(new PrimaryLease(L, 2));
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        leases.Fenced();
        Assert.Null(leases.ExpiresAt);
        Assert.False(leases.ReplyGoalIsCurrent(after));
    }

    [Fact]
    public void A_standby_counts_as_replying_only_when_its_reply_time_advances_while_streaming()
    {
        var replies = new StandbyReplyTracker(_clock);
        var t0 = DateTimeOffset.Parse("2026-11-25T21:00:00Z");
        replies.Observe([("pgautofailover_standby_2", "catchup", t0)]);
        Assert.Null(replies.LastReplyAt);
        replies.Observe([("pgautofailover_standby_2", "streaming", t0)]);
        var first = replies.LastReplyAt;
        Assert.NotNull(first);
        _clock.Advance(TimeSpan.FromSeconds(2));
        replies.Observe([("pgautofailover_standby_2", "streaming", t0)]); // same reply seen again: no news
        Assert.Equal(first, replies.LastReplyAt);
        replies.Observe([("pgautofailover_standby_2", "streaming", t0.AddSeconds(1)), ("pgautofailover_standby_3", "streaming", null)]);
        Assert.Equal(_clock.GetTimestamp(), replies.LastReplyAt);
    }
}

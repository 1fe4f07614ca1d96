using PgAutoFailover.Keeper.Core;

namespace PgAutoFailover.Keeper.Tests.Unit;

public class WalAckTrackerTests
{
    [Fact]
    public void The_age_runs_from_the_first_sample_that_saw_WAL_no_standby_flushed()
    {
        var t = new WalAckTracker();
        t.Observe(now: 100, primaryFlush: 1000, standbyFlush: 1000);
        Assert.Null(t.OldestUnacknowledgedSince);
        t.Observe(200, 1100, 1000);
        t.Observe(300, 1200, 1000);
        Assert.Equal(200, t.OldestUnacknowledgedSince);
        t.Observe(400, 1300, 1100); // the standby has what the primary had at 200, not at 300
        Assert.Equal(300, t.OldestUnacknowledgedSince);
        t.Observe(500, 1300, 1300);
        Assert.Null(t.OldestUnacknowledgedSince);
    }

    [Fact]
    public void An_idle_primary_has_no_age_and_a_primary_without_standby_waits_from_its_first_write()
    {
        var t = new WalAckTracker();
        t.Observe(100, 1000, null);
        t.Observe(900, 1000, null);
        Assert.Equal(100, t.OldestUnacknowledgedSince); // the same WAL, still waiting
        t.Reset();
        Assert.Null(t.OldestUnacknowledgedSince);
        t.Observe(1000, 2000, 2000);
        t.Observe(1100, 2000, 2000);
        Assert.Null(t.OldestUnacknowledgedSince);
    }

    [Fact]
    public void A_long_stall_keeps_its_oldest_moment_without_growing_without_bound()
    {
        var t = new WalAckTracker();
        for (var i = 1; i <= WalAckTracker.MaxPending + 100; i++) t.Observe(i, (ulong)(1000 + i), 1000);
        Assert.Equal(1, t.OldestUnacknowledgedSince);
        t.Observe(99_999, 6000, (ulong)(1000 + WalAckTracker.MaxPending - 1));
        Assert.Equal(WalAckTracker.MaxPending, t.OldestUnacknowledgedSince); // the stretched last entry keeps its first moment
        t.Observe(100_000, 6000, 6000);
        Assert.Null(t.OldestUnacknowledgedSince);
    }

    [Fact]
    public void Only_synchronous_standbys_count_while_synchronous_standby_names_is_set()
    {
        (string, ulong)[] rows = [("async", 900), ("quorum", 700), ("potential", 800)];
        Assert.Equal(700UL, WalAckTracker.BestStandbyFlush(synchronousNamesSet: true, rows));
        Assert.Equal(900UL, WalAckTracker.BestStandbyFlush(synchronousNamesSet: false, rows));
        Assert.Null(WalAckTracker.BestStandbyFlush(true, [("async", 900)])); // the synchronous one dropped out
    }
}

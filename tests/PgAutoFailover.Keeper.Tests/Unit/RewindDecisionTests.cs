using PgAutoFailover.Keeper.Core;

namespace PgAutoFailover.Keeper.Tests.Unit;

public sealed class RewindDecisionTests
{
    // What `psql replication=true -A -t -F '\n' -c 'TIMELINE_HISTORY 3'` prints: the file name, then the file.
    private const string HistoryOfTimeline3 = "00000003.history\n1\t0/304D848\tno recovery target specified\n\n2\t0/5000A10\tno recovery target specified\n";

    [Theory]
    [InlineData(1u, 0x304D848UL)]
    [InlineData(2u, 0x5000A10UL)]
    public void The_switch_point_is_where_the_history_left_the_given_timeline(uint timeline, ulong expected) =>
        Assert.Equal(expected, RewindDecision.SwitchPointOff(HistoryOfTimeline3, timeline));

    [Theory]
    [InlineData(3u)]
    [InlineData(7u)]
    public void A_timeline_the_history_never_left_has_no_switch_point(uint timeline) =>
        Assert.Null(RewindDecision.SwitchPointOff(HistoryOfTimeline3, timeline));

    [Fact]
    public void Comments_and_garbage_are_skipped_not_trusted()
    {
        Assert.Equal(0x1000000UL, RewindDecision.SwitchPointOff("# comment\nnot a line\n1 0/1000000 reason", 1));
        Assert.Null(RewindDecision.SwitchPointOff("1\tnot-an-lsn\treason", 1));
        Assert.Null(RewindDecision.SwitchPointOff("", 1));
    }

    [Theory]
    [InlineData("0/304D848", 0x304D848UL)]
    [InlineData("1A/FF", 0x1A000000FFUL)]
    [InlineData("FFFFFFFF/FFFFFFFF", ulong.MaxValue)]
    public void Lsns_parse(string text, ulong expected) => Assert.Equal(expected, RewindDecision.ParseLsn(text));

    [Theory]
    [InlineData("")]
    [InlineData("304D848")]
    [InlineData("/1")]
    [InlineData("1/")]
    [InlineData("1/100000000")]
    [InlineData("x/1")]
    public void Bad_lsns_do_not_parse(string text) => Assert.Null(RewindDecision.ParseLsn(text));

    [Fact]
    public void Only_pg_waldumps_no_record_error_says_the_wal_ends_at_the_switch_point()
    {
        Assert.True(RewindDecision.WalEndsAtOrBefore(1, "pg_waldump: error: could not find a valid record after 0/304D848"));
        // A record there: diverged.
        Assert.False(RewindDecision.WalEndsAtOrBefore(0,
            "rmgr: Transaction len (rec/tot):     34/    34, tx:        745, lsn: 0/0304D848, prev 0/0304D820, desc: COMMIT"));
        // Any other failure proves nothing.
        Assert.False(RewindDecision.WalEndsAtOrBefore(1, "pg_waldump: error: could not open file \"000000010000000000000003\": No such file or directory"));
        Assert.False(RewindDecision.WalEndsAtOrBefore(1, "runuser: user postgres does not exist"));
        Assert.False(RewindDecision.WalEndsAtOrBefore(0, ""));
    }

    [Theory]
    [InlineData(1u, 0x3000028UL, 2u, 0x304D848UL, true, true)]    // crashed between commits: follow
    [InlineData(1u, 0x3000028UL, 2u, 0x304D848UL, false, false)]  // WAL past the switch point: rewind
    [InlineData(1u, 0x3000028UL, 1u, 0x304D848UL, true, false)]   // same timeline: nothing to follow
    [InlineData(2u, 0x3000028UL, 2u, 0x304D848UL, true, false)]
    [InlineData(1u, 0x5000000UL, 2u, 0x304D848UL, true, false)]   // checkpointed past the switch point: rewind
    public void Following_without_rewind_needs_every_piece_of_evidence(uint local, ulong redo, uint upstream, ulong switchPoint, bool walEnds, bool expected) =>
        Assert.Equal(expected, RewindDecision.CanFollowWithoutRewind(local, redo, upstream, switchPoint, walEnds));

    [Fact]
    public void No_switch_point_means_rewind() => Assert.False(RewindDecision.CanFollowWithoutRewind(1, 0, 2, null, true));
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests.Rules;

/// <summary>docs/states.md#rules-for-a-node-in-a-primary-state-generated primary rules and the [main] replication stall.</summary>
public class PrimaryRuleTests
{
    [Fact]
    public void PRI_1_single_goes_wait_primary_when_a_standby_waits()
    {
        new G().Node(1, NodeState.Single).Node(2, WaitStandby).Report(1).Assigns(("PRI-1", 1, WaitPrimary));
    }

    [Fact]
    public void PRI_2_fan_out_demotes_unhealthy_secondaries_then_PRI_2b_disables_sync()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary, dead: true);
        g.Report(1).Assigns(("PRI-2", 2, CatchingUp), ("PRI-2b", 1, WaitPrimary));
    }

    [Fact]
    public void PRI_2a_all_standbys_async_primary_without_secondary_waits()
    {
        new G().Node(1, Primary).Node(2, CatchingUp, quorum: false).Report(1).Assigns(("PRI-2a", 1, WaitPrimary));
    }

    [Fact]
    public void PRI_2a_all_standbys_async_wait_primary_with_a_secondary_is_primary()
    {
        new G().Node(1, WaitPrimary).Node(2, Secondary, quorum: false).Report(1).Assigns(("PRI-2a", 1, Primary));
    }

    [Fact]
    public void PRI_2b_with_number_sync_standbys_the_primary_keeps_sync_replication()
    {
        var g = new G(numberSyncStandbys: 1).Node(1, ApplySettings).Node(2, CatchingUp).Node(3, CatchingUp);
        g.Report(1).Assigns(("PRI-2b", 1, Primary));
    }

    [Fact]
    public void PRI_2c_wait_primary_with_a_quorum_secondary_enables_sync()
    {
        new G().Node(1, WaitPrimary).Node(2, Secondary).Report(1).Assigns(("PRI-2c", 1, Primary));
    }

    [Fact]
    public void PRI_2c_not_while_the_secondarys_wal_receiver_is_disconnected()
    {
        var g = new G().Node(1, WaitPrimary).Node(2, Secondary);
        g.Report(2, rep: States.StandbyNotStreaming);
        g.Report(1).AssignsNothing();
        Assert.NotNull(g.Report(2, rep: "streaming").WakeAt); // the group is decided again at once: the primary's rules run
        g.Report(1).Assigns(("PRI-2c", 1, Primary));
    }

    [Fact]
    public void PRI_2d_apply_settings_returns_to_primary_or_wait_primary()
    {
        new G().Node(1, ApplySettings).Node(2, Secondary).Report(1).Assigns(("PRI-2d", 1, Primary));
        new G().Node(1, ApplySettings).Node(2, CatchingUp).Node(3, CatchingUp, quorum: false).Report(1).Assigns(("PRI-2b", 1, WaitPrimary));
    }

    [Fact]
    public void PRI_3_join_primary_becomes_primary()
    {
        new G().Node(1, JoinPrimary).Node(2, Secondary).Report(1).Assigns(("PRI-3", 1, Primary));
    }

    [Fact]
    public void MAIN_REPLICATION_STALL_primary_without_connected_standby_goes_wait_primary()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        g.Report(1, rep: "").AssignsNothing(); // stall starts
        Assert.Equal(G.Now, g[1].ReplicationStallSince);
        g.Report(1, rep: "", at: G.Now + TimeSpan.FromSeconds(10))
            .Assigns(("MAIN-REPLICATION-STALL", 1, WaitPrimary));
    }

    [Fact]
    public void MAIN_REPLICATION_STALL_clears_when_a_standby_reconnects_and_waits_with_number_sync_standbys()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        g.Report(1, rep: "");
        g.Report(1, rep: "quorum", at: G.Now + TimeSpan.FromSeconds(5));
        Assert.Null(g[1].ReplicationStallSince);
        var nss = new G(numberSyncStandbys: 1).Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        nss.Report(1, rep: "");
        nss.Report(1, rep: "", at: G.Now + TimeSpan.FromSeconds(20)).AssignsNothing();
    }

    [Fact]
    public void SYNC_ACK_STALL_primary_whose_wal_waits_for_every_standby_stops_waiting_and_its_secondaries_stop_being_candidates()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        g.Report(1, unacknowledged: TimeSpan.FromSeconds(1.9)).AssignsNothing();
        var d = g.Report(1, unacknowledged: TimeSpan.FromSeconds(2));
        d.Assigns(("SYNC-ACK-STALL", 2, CatchingUp), ("SYNC-ACK-STALL", 3, CatchingUp), ("SYNC-ACK-STALL", 1, WaitPrimary));
        Assert.Contains("commits waited 2.0 s for a standby", d.Assignments[^1].Description, StringComparison.Ordinal);
    }

    [Fact]
    public void SYNC_ACK_STALL_not_with_number_sync_standbys_nor_for_async_standbys_alone()
    {
        var nss = new G(numberSyncStandbys: 1).Node(1, Primary).Node(2, Secondary).Node(3, Secondary);
        nss.Report(1, unacknowledged: TimeSpan.FromSeconds(30)).AssignsNothing();
        var async = new G().Node(1, Primary).Node(2, Secondary, quorum: false);
        Assert.DoesNotContain(async.Report(1, unacknowledged: TimeSpan.FromSeconds(30)).Assignments, a => a.Rule == "SYNC-ACK-STALL");
    }

    [Fact]
    public void SYNC_ACK_STALL_secondary_comes_back_only_once_the_primary_is_acknowledged_again()
    {
        var g = new G().Node(1, Primary, lsn: 0x5000000).Node(2, Secondary, lsn: 0x5000000 - 1024);
        g.Report(1, unacknowledged: TimeSpan.FromSeconds(3)).Assigns(("SYNC-ACK-STALL", 2, CatchingUp), ("SYNC-ACK-STALL", 1, WaitPrimary));
        g.Report(1, state: WaitPrimary, unacknowledged: TimeSpan.FromSeconds(4));
        g.Report(2, state: CatchingUp, rep: "streaming").AssignsNothing(); // GSM-16 waits: its "streaming" may be a silent link
        g.Report(1, state: WaitPrimary, unacknowledged: TimeSpan.FromMilliseconds(20));
        g.Report(2, state: CatchingUp, rep: "streaming").Assigns(("GSM-16", 2, Secondary));
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// Election with two standbys (docs/states.md#elections): report_lsn freezes them, the elected but lagging one
/// fast-forwards from the most advanced one, the other joins the new primary; then dropped.
/// </summary>
public sealed class ElectionTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task A_lagging_candidate_fast_forwards_from_the_most_advanced_standby_and_the_other_joins_it()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (a, aid, b, bid) = await group.PairAsync();
            var c = group.Node("node3");
            await c.StartKeeperAsync();
            var cid = await c.WaitRegisteredAsync();
            await monitor.WaitForStateAsync(cid, NodeState.WaitStandby);
            await monitor.ReachAsync(cid, NodeState.CatchingUp);
            await monitor.ReachAsync(cid, NodeState.Secondary);
            await monitor.ReachAsync(aid, NodeState.ApplySettings);
            await monitor.ReachAsync(aid, NodeState.Primary, $"ANY 1 (pgautofailover_standby_{bid}, pgautofailover_standby_{cid})");
            await a.ExecuteAsync("CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1)");
            await Eventually.TrueAsync(async () => await b.CountAsync("SELECT count(*) FROM t") == 1, "row 1 on B");

            // B freezes (report_lsn: no upstream); row 2 reaches only C.
            await monitor.ReachAsync(bid, NodeState.ReportLsn);
            Assert.True(await b.IsInRecoveryAsync());
            Assert.Null(await b.ScalarAsync<string>("SELECT status FROM pg_stat_wal_receiver"));
            // No WAL receiver: the timeline is unknown (0, the monitor keeps the last one), not the last restartpoint's.
            await Eventually.TrueAsync(() => Task.FromResult(monitor.LastReport(bid) is { CurrentState: NodeState.ReportLsn, Timeline: 0 }),
                "B's report_lsn report with timeline 0");
            await a.ExecuteAsync("INSERT INTO t VALUES (2)");
            await Eventually.TrueAsync(async () => await c.CountAsync("SELECT count(*) FROM t") == 2, "row 2 on C");
            Assert.Equal(1L, await b.ScalarAsync<long>("SELECT count(*) FROM t"));

            // The primary dies; C reports its LSN too.
            await a.StopKeeperAsync();
            var cReport = await monitor.ReachAsync(cid, NodeState.ReportLsn);
            var bReport = await Eventually.ValueAsync(() => Task.FromResult(monitor.LastReport(bid) is { Lsn: > 0 } r ? r : null), "B's LSN");
            Assert.True(cReport.Lsn > bReport.Lsn, $"C ({cReport.Lsn}) should be ahead of B ({bReport.Lsn})");

            // B is elected (say, by priority) but lacks WAL: fast_forward from C up to C's LSN.
            await monitor.FastForwardAsync(bid, cid, cReport.Lsn);
            await monitor.WaitForStateAsync(bid, NodeState.FastForward);
            Assert.Equal(2L, await b.ScalarAsync<long>("SELECT count(*) FROM t"));
            Assert.True(await b.IsInRecoveryAsync());

            await monitor.ReachAsync(bid, NodeState.PreparePromotion);
            await monitor.ReachAsync(bid, NodeState.StopReplication);
            monitor.PrimaryNodeId = bid;
            await monitor.ReachAsync(bid, NodeState.WaitPrimary);
            Assert.False(await b.IsInRecoveryAsync());
            await b.ExecuteAsync("INSERT INTO t VALUES (3)");

            // C was not elected: join_secondary (stopped), then follow B.
            await monitor.ReachAsync(cid, NodeState.JoinSecondary);
            Assert.False(c.PostmasterRunning);
            await monitor.ReachAsync(cid, NodeState.Secondary);
            await Eventually.TrueAsync(async () => await c.CountAsync("SELECT count(*) FROM t") == 3, "row 3 on C");
            Assert.Equal("streaming", await c.ScalarAsync<string>("SELECT status FROM pg_stat_wal_receiver"));

            // Dropped: the node stops.
            await monitor.ReachAsync(cid, NodeState.Dropped);
            Assert.False(c.PostmasterRunning);
        });
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// Promotion (secondary → prepare_promotion → stop_replication → wait_primary → primary), demotion
/// (primary → draining → demoted) and rejoin, through pg_rewind when the old primary diverged (demoted → catchingup → secondary),
/// each checked with SQL on the servers.
/// </summary>
public sealed class FailoverTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Switchover_promotes_the_standby_and_rewinds_the_old_primary_into_a_standby()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (oldPrimary, a, standby, b) = await group.PairAsync();
            await oldPrimary.ExecuteAsync("CREATE TABLE t (id int primary key, note text); INSERT INTO t VALUES (1, 'before')");

            // Demotion: draining stops PostgreSQL.
            await monitor.ReachAsync(a, NodeState.Draining);
            Assert.False(await oldPrimary.AcceptsQueriesAsync());

            // Promotion, first without writes.
            await monitor.ReachAsync(b, NodeState.PreparePromotion);
            Assert.True(await standby.IsInRecoveryAsync());
            await monitor.ReachAsync(b, NodeState.StopReplication);
            Assert.False(await standby.IsInRecoveryAsync());
            Assert.Equal("on", await standby.ScalarAsync<string>("SHOW default_transaction_read_only"));
            var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => standby.ExecuteAsync("INSERT INTO t VALUES (2, 'too early')"));
            Assert.Equal("25006", refused.SqlState); // read_only_sql_transaction

            await monitor.ReachAsync(a, NodeState.Demoted);
            Assert.False(oldPrimary.PostmasterRunning);

            monitor.PrimaryNodeId = b;
            await monitor.ReachAsync(b, NodeState.WaitPrimary);
            Assert.Equal("off", await standby.ScalarAsync<string>("SHOW default_transaction_read_only"));
            Assert.Equal("", await standby.ScalarAsync<string>("SHOW synchronous_standby_names"));
            await standby.ExecuteAsync("INSERT INTO t VALUES (2, 'new primary')");
            // The CHECKPOINT after promotion runs beside the transition, not in the write outage.
            await Eventually.TrueAsync(async () => await standby.ScalarAsync<int>("SELECT timeline_id FROM pg_control_checkpoint()") >= 2,
                "the promotion checkpoint on timeline 2");

            // Rejoin: pg_rewind, then stream from the new primary.
            await monitor.ReachAsync(a, NodeState.CatchingUp);
            Assert.True(await oldPrimary.IsInRecoveryAsync());
            // Stopped cleanly while its standby streamed, the old primary has no WAL the new primary lacks: it follows
            // the new timeline without pg_rewind.
            Assert.Contains(oldPrimary.Log.Lines, l => l.Contains("No pg_rewind needed"));
            Assert.DoesNotContain(oldPrimary.Log.Lines, l => l.Contains("pg_rewind from"));
            await Eventually.TrueAsync(async () => await oldPrimary.CountAsync("SELECT count(*) FROM t") == 2, "row 2 on the rejoined node");
            await monitor.ReachAsync(a, NodeState.Secondary);

            await monitor.ReachAsync(b, NodeState.Primary, $"FIRST 1 (pgautofailover_standby_{a})");
            Assert.Equal("sync", await standby.ScalarAsync<string>(
                $"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pgautofailover_standby_{a}' AND state = 'streaming'"));
            await standby.ExecuteAsync("INSERT INTO t VALUES (3, 'synchronous again')");
            await Eventually.TrueAsync(async () => await oldPrimary.CountAsync("SELECT count(*) FROM t") == 3, "row 3 on the new standby");
        });
    }

    [Fact]
    public async Task A_promoted_standby_reports_its_new_timeline_before_the_promotion_checkpoint_completes()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (oldPrimary, a, standby, b) = await group.PairAsync();
            // Many dirty buffers on the standby: the spread checkpoint that follows its promotion then takes minutes.
            await oldPrimary.ExecuteAsync("CREATE TABLE bulk AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 300000) g");
            await Eventually.TrueAsync(async () => await standby.CountAsync("SELECT count(*) FROM bulk") == 300000, "the bulk table on the standby");

            await monitor.ReachAsync(a, NodeState.Draining);
            await monitor.ReachAsync(b, NodeState.PreparePromotion);
            await monitor.ReachAsync(b, NodeState.StopReplication);
            var writing = await standby.ScalarAsync<int>("SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int");
            Assert.Equal(2, writing);

            // Standbys streaming from it report timeline 2 at once; so must it, or none could become its secondary (GSM-16
            // wants equal timelines). A primary reports its last checkpoint's timeline (docs/architecture.md#messages), and the checkpoint after
            // a promotion is a spread one: without the CHECKPOINT the keeper runs after the promotion it still said 1
            // after 30 s here (the spread checkpoint runs for minutes, far past the wait's limit).
            await Eventually.TrueAsync(() => Task.FromResult(monitor.LastReport(b) is { CurrentState: NodeState.StopReplication, Timeline: 2 }),
                "the promoted node to report timeline 2");
        });
    }

    [Fact]
    public async Task A_diverged_old_primary_loses_its_unreplicated_writes_through_pg_rewind()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (oldPrimary, a, standby, b) = await group.PairAsync();
            await oldPrimary.ExecuteAsync("CREATE TABLE t (id int primary key, note text); INSERT INTO t VALUES (1, 'both')");
            await Eventually.TrueAsync(async () => await standby.CountAsync("SELECT count(*) FROM t") == 1, "row 1 on the standby");

            // The old primary goes on alone (wait_primary: no synchronous standby) and writes a row the standby never gets.
            await monitor.ReachAsync(a, NodeState.WaitPrimary);
            await standby.StopKeeperAsync();
            await oldPrimary.ExecuteAsync("INSERT INTO t VALUES (99, 'diverged')");

            // The standby is promoted by hand of the monitor on its own, the old primary demoted.
            await monitor.ReachAsync(a, NodeState.Demoted);
            await standby.StartKeeperAsync();
            monitor.PrimaryNodeId = b;
            await monitor.ReachAsync(b, NodeState.Single);
            await standby.ExecuteAsync("INSERT INTO t VALUES (2, 'new timeline')");

            await monitor.ReachAsync(a, NodeState.CatchingUp);
            await Eventually.TrueAsync(async () => await oldPrimary.CountAsync("SELECT count(*) FROM t WHERE id = 2") == 1, "row 2 on the rejoined node");
            Assert.Equal(0L, await oldPrimary.ScalarAsync<long>("SELECT count(*) FROM t WHERE id = 99"));
            Assert.Contains(oldPrimary.Log.Lines, l => l.Contains("pg_rewind needed: the local WAL on timeline 1 goes past"));
            Assert.Contains(oldPrimary.Log.Lines, l => l.Contains("pg_rewind done"));
            Assert.True(await oldPrimary.IsInRecoveryAsync());
        });
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>Maintenance (the keeper leaves PostgreSQL alone) and keepers killed and restarted.</summary>
public sealed class MaintenanceAndRestartTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task A_standby_in_maintenance_is_left_to_the_operator_and_rejoins_afterwards()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (primary, a, standby, b) = await group.PairAsync();
            await primary.ExecuteAsync("CREATE TABLE t (id int primary key)");

            await monitor.ReachAsync(a, NodeState.WaitPrimary);
            Assert.Equal("", await primary.ScalarAsync<string>("SHOW synchronous_standby_names"));
            await monitor.ReachAsync(b, NodeState.WaitMaintenance);
            await monitor.ReachAsync(b, NodeState.Maintenance);

            // The operator stops PostgreSQL; the keeper does not restart it.
            await standby.StopPostgresAsync();
            await primary.ExecuteAsync("INSERT INTO t VALUES (1)"); // writes go on without the standby
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(standby.PostmasterRunning);

            await monitor.ReachAsync(b, NodeState.CatchingUp);
            await monitor.ReachAsync(b, NodeState.Secondary);
            Assert.True(await standby.IsInRecoveryAsync());
            Assert.Equal("streaming", await standby.ScalarAsync<string>("SELECT status FROM pg_stat_wal_receiver"));
            await Eventually.TrueAsync(async () => await standby.CountAsync("SELECT count(*) FROM t") == 1, "row 1 on the standby");
        });
    }

    [Fact]
    public async Task A_primary_going_to_maintenance_stops_and_comes_back_only_as_a_standby()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (oldPrimary, a, standby, b) = await group.PairAsync();
            await monitor.ReachAsync(a, NodeState.PrepareMaintenance);
            Assert.False(oldPrimary.PostmasterRunning);
            await monitor.ReachAsync(a, NodeState.Maintenance);
            Assert.True(File.Exists(Path.Combine(oldPrimary.PgData, "standby.signal")), "a manual start must come up as a standby");

            monitor.PrimaryNodeId = b;
            await monitor.ReachAsync(b, NodeState.Single);
            await standby.ExecuteAsync("CREATE TABLE t (id int); INSERT INTO t VALUES (1)");

            await monitor.ReachAsync(a, NodeState.CatchingUp);
            Assert.True(await oldPrimary.IsInRecoveryAsync());
            await Eventually.TrueAsync(async () => await oldPrimary.CountAsync("SELECT count(*) FROM t") == 1, "row 1 on the old primary");
        });
    }

    [Fact]
    public async Task A_restarted_keeper_does_not_start_postgres_before_the_monitor_answers()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var (node, id) = await group.SingleAsync();
            await node.StopKeeperAsync();
            Assert.False(node.PostmasterRunning);

            group.Monitor.Answering = false;
            await node.StartKeeperAsync();
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(node.PostmasterRunning);

            group.Monitor.Answering = true;
            await Eventually.TrueAsync(node.AcceptsQueriesAsync, "PostgreSQL started once the monitor confirmed single");
            Assert.False(await node.IsInRecoveryAsync());
            _ = id;
        });
    }

    [Fact]
    public async Task Keepers_killed_with_their_nodes_recover_primary_and_standby()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (primary, a, standby, b) = await group.PairAsync();
            await primary.ExecuteAsync("CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1)");

            // The keepers die (PostgreSQL left running), then the standby's PostgreSQL crashes too.
            await primary.KillKeeperAsync();
            await standby.KillKeeperAsync();
            Assert.True(primary.PostmasterRunning);
            await standby.KillPostgresAsync();

            await primary.StartKeeperAsync();
            await standby.StartKeeperAsync();
            await Eventually.TrueAsync(standby.AcceptsQueriesAsync, "the standby restarted by its keeper");
            Assert.True(await standby.IsInRecoveryAsync());
            await Eventually.TrueAsync(async () => await primary.ScalarAsync<string>(
                $"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pgautofailover_standby_{b}'") == "sync", "synchronous replication again");
            await primary.ExecuteAsync("INSERT INTO t VALUES (2)");
            Assert.Equal(NodeState.Primary, monitor.LastReport(a)!.CurrentState);
        });
    }

    [Fact]
    public async Task A_demoted_node_started_behind_the_keepers_back_is_stopped_again()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (oldPrimary, a, _, _) = await group.PairAsync();
            await monitor.ReachAsync(a, NodeState.Demoted);
            await oldPrimary.StopKeeperAsync();

            // Someone starts the old primary by hand while its keeper is down.
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsAsync("postgres", Path.Combine(PgCluster.BinDirectory, "pg_ctl"),
                ["-D", oldPrimary.PgData, "-l", Path.Combine(oldPrimary.StateDirectory, "manual.log"), "-w",
                 "-o", $"-p {oldPrimary.Port} -k {oldPrimary.StateDirectory} -c listen_addresses=127.0.0.1", "start"], TimeSpan.FromSeconds(60)), "pg_ctl start");
            Assert.True(await oldPrimary.AcceptsQueriesAsync());

            await oldPrimary.StartKeeperAsync();
            await Eventually.TrueAsync(async () => !await oldPrimary.AcceptsQueriesAsync(), "the keeper to stop the demoted node's PostgreSQL");
        });
    }
}

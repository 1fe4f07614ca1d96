using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>Adopting an existing data directory, stopped or running (docs/operations.md#adopting-a-running-database), and the ordering of pushed goals.</summary>
public sealed class AdoptAndPushTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Create_adopts_an_existing_stopped_primary_and_keeps_its_data()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await using var existing = await PgCluster.CreateAsync();
        await existing.ExecuteAsync("CREATE TABLE precious (id int); INSERT INTO precious VALUES (42)");
        await existing.StopAsync();
        await group.WithLogsAsync(async () =>
        {
            var node = group.Node("adopted");
            node.Settings["Keeper:PgData"] = existing.DataDirectory;
            node.Settings["Keeper:StateDirectory"] = node.StateDirectory;
            node.Settings["Keeper:Port"] = node.Port.ToString();
            await node.StartKeeperAsync();
            var id = await node.WaitRegisteredAsync();
            await group.Monitor.WaitForStateAsync(id, NodeState.Single);
            Assert.Equal(42, await node.ScalarAsync<int>("SELECT id FROM precious"));
            Assert.True(node.PersistedState!.PgDataExistedAtCreate);
            Assert.Equal(1L, await node.ScalarAsync<long>("SELECT count(*) FROM pg_roles WHERE rolname = 'pgautofailover_replicator'"));
            await node.StopKeeperAsync();
        });
    }

    [Fact]
    public async Task Create_adopts_a_running_primary_without_a_restart_and_a_standby_joins_it()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        // A database that already serves, started by someone else, with a client session open throughout.
        await using var existing = await PgCluster.CreateAsync();
        await existing.ExecuteAsync("CREATE TABLE precious (id int); INSERT INTO precious VALUES (42)");
        var postmaster = existing.PostmasterPid();
        await using var client = new NpgsqlConnection(existing.ConnectionString());
        await client.OpenAsync();
        await group.WithLogsAsync(async () =>
        {
            var node = group.Node("adopted", existing.Port);
            node.Settings["Keeper:PgData"] = existing.DataDirectory;
            node.Settings["Keeper:StateDirectory"] = node.StateDirectory;
            await node.StartKeeperAsync();
            var id = await node.WaitRegisteredAsync();
            await group.Monitor.WaitForStateAsync(id, NodeState.Single);
            Assert.Equal(postmaster, existing.PostmasterPid()); // never restarted
            Assert.Equal(42, await ScalarAsync<int>(client, "SELECT id FROM precious")); // the session from before goes on
            Assert.Equal("on", await ScalarAsync<string>(client, "SHOW ssl")); // TLS turned on at a reload
            Assert.Contains("Adopted the running PostgreSQL", node.LogText);
            Assert.Contains("guarding it with the lease", node.LogText);
            Assert.True(node.PersistedState!.PgDataExistedAtCreate);

            var (_, _, standby, _) = await group.PairAsync((node, id));
            await ExecuteAsync(client, "INSERT INTO precious VALUES (43)"); // synchronous: acknowledged by the standby
            Assert.Equal(2L, await standby.CountAsync("SELECT count(*) FROM precious"));
            Assert.True(await standby.IsInRecoveryAsync());
            Assert.Equal(postmaster, existing.PostmasterPid());
        });
    }

    [Fact]
    public async Task Create_on_a_running_server_with_another_port_is_refused_in_one_line_and_leaves_it_running()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await using var existing = await PgCluster.CreateAsync();
        var postmaster = existing.PostmasterPid();
        await group.WithLogsAsync(async () =>
        {
            var node = group.Node("adopted");
            node.Settings["Keeper:PgData"] = existing.DataDirectory;
            node.Settings["Keeper:StateDirectory"] = node.StateDirectory;
            await node.StartKeeperAsync();
            await Eventually.TrueAsync(() => Task.FromResult(node.Exit.Code != 0), "the keeper to refuse");
            Assert.Equal($"PostgreSQL already runs on {existing.DataDirectory} with port {existing.Port}, not {node.Port}: give --port {existing.Port} to adopt it as it runs",
                node.Exit.Error);
            Assert.False(File.Exists(Path.Combine(node.StateDirectory, "keeper.state")), "nothing registered");
            await node.StopKeeperAsync();
            Assert.Equal(postmaster, existing.PostmasterPid());
            Assert.Equal(1, await existing.ScalarAsync<int>("SELECT 1"));
        });
    }

    private static async Task<T?> ScalarAsync<T>(NpgsqlConnection c, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        return (T?)await cmd.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(NpgsqlConnection c, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_pushed_goal_older_than_one_seen_is_dropped()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var (node, id) = await group.SingleAsync();
            await group.Monitor.ReachAsync(id, NodeState.WaitPrimary); // group version 1
            await group.Monitor.ReachAsync(id, NodeState.Primary); // group version 2 (no standby names: nothing to wait for)

            await group.Monitor.PushAsync(id, NodeState.Demoted, groupVersion: 1);
            await Eventually.TrueAsync(() => Task.FromResult(node.Log.Lines.Any(l => l.Contains("Dropping AssignGoalState version 1"))), "the stale push to be dropped");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.True(await node.AcceptsQueriesAsync());
            Assert.Equal(NodeState.Primary, node.PersistedState!.CurrentState);
        });
    }
}

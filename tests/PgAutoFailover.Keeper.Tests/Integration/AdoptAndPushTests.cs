using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>Adopting an existing data directory, and the ordering of pushed goals.</summary>
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

using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 14 part 6: HA added to a database that already serves (docs/operations.md#adopting-a-running-database). The
/// keeper takes the running server over without a restart, a standby clones from it, and the adopted server obeys the
/// lease like one the keeper started: its keeper killed for good, it stops once the lease is over and the standby takes
/// the writes with none lost. The lease is 5 s, as in <see cref="KeeperRestartTests"/>.
/// </summary>
public sealed class AdoptRunningTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly Dictionary<string, string> LongLease = new() { ["Monitor__Core__PrimaryLease"] = "00:00:05" };

    [Fact]
    public async Task A_running_database_is_adopted_as_primary_without_a_restart_and_fenced_by_the_lease_once_its_keeper_is_gone()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync(), LongLease);
        await using var existing = await PgCluster.CreateAsync();
        await existing.ExecuteAsync("CREATE TABLE precious (id bigint PRIMARY KEY); INSERT INTO precious SELECT generate_series(1, 1000)");
        var postmaster = existing.PostmasterPid();
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodeAsync("node1", adopt: existing);
            await cluster.AddNodeAsync("node2");
            await cluster.WaitConvergedAsync("node1", TimeSpan.FromSeconds(240));
            var node1 = cluster.Node("node1");
            var node2 = cluster.Node("node2");
            Assert.Equal(postmaster, node1.PostmasterPid); // the same server all along
            Assert.Equal(1000L, await node2.ScalarAsync<long>("SELECT count(*) FROM precious"));
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);

            await using var poller = WriterPoller.Start(cluster);
            await using var load = await WriteLoad.StartAsync(node1, await cluster.WaitUriAsync(), FailoverScenarios.WriteInterval, TimeSpan.FromMinutes(4));
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, "the load to start");

            var deadAt = WriteLoad.Clock.Elapsed;
            await node1.Keeper.KillAsync();
            await Eventually.TrueAsync(() => Task.FromResult(node1.PostmasterPid is null), "the adopted PostgreSQL to stop once the lease is over", TimeSpan.FromSeconds(60));
            Assert.Contains("is gone and its lease is over: stopping PostgreSQL", File.ReadAllText(node1.PostgresLog));
            await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == "node2" && FailoverScenarios.Writable(n.ReportedState)),
                "node2 to take writes", TimeSpan.FromSeconds(120));
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, "writes on node2", TimeSpan.FromSeconds(120));
            output.WriteLine($"keeper killed at {deadAt.TotalSeconds:F1} s; writes back on node2 by {WriteLoad.Clock.Elapsed.TotalSeconds:F1} s");
            await NoLoss.AssertAsync(load, poller, output, node2);
        });
    }
}

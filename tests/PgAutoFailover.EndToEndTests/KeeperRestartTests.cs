using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 13 defect 5: killing only the keeper of a primary took its PostgreSQL down 0.5 s later and cost a failover.
/// PostgreSQL now outlives its keeper until the keeper's lease is over: a keeper restarted within the lease takes the
/// running server over, and one that stays dead still leaves no writer past the lease. The lease is 30 s here so that a
/// keeper restarting on a loaded machine is surely within it: CI runs that built the compose images at the same time
/// saw the new keeper's first line 5.6 s and then 14 s after its start (initdb took 12 s there), when PostgreSQL had
/// rightly stopped.
/// </summary>
public sealed class KeeperRestartTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly Dictionary<string, string> LongLease = new() { ["Monitor__Core__PrimaryLease"] = "00:00:30" };

    [Fact]
    public async Task A_primarys_keeper_restarted_within_its_lease_takes_over_the_running_server_and_one_left_dead_lets_it_stop()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync(), LongLease);
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            var node1 = cluster.Node("node1");
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);
            await using var poller = WriterPoller.Start(cluster);
            await using var load = await WriteLoad.StartAsync(node1, await cluster.WaitUriAsync(), FailoverScenarios.WriteInterval, TimeSpan.FromMinutes(4));
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, "the load to start");
            var postmaster = node1.PostmasterPid;
            Assert.NotNull(postmaster);

            // The keeper alone is killed and restarted at once, as a supervisor would.
            var killedAt = WriteLoad.Clock.Elapsed;
            await node1.Keeper.KillAsync();
            node1.StartKeeper();
            await Eventually.TrueAsync(() => Task.FromResult(node1.Keeper.Tail(100).Contains("of the previous keeper's lease: taking it over")),
                "the new keeper to take the lease over");
            await cluster.WaitForAsync(s => s.Nodes.Single(n => n.Node.NodeName == "node1").LastReportAt is { } at && at > DateTimeOffset.UtcNow.AddSeconds(-2)
                && FailoverScenarios.Writable(s.Nodes.Single(n => n.Node.NodeName == "node1").GoalState), "the new keeper to report as the primary");
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, "writes after the keeper restart");
            Assert.Equal(postmaster, node1.PostmasterPid); // the same server all along: never stopped
            Assert.All(load.Acks.Where(a => a.At > killedAt), a => Assert.Equal(node1.Port, a.Port));
            Assert.DoesNotContain("lease is over", File.ReadAllText(node1.PostgresLog));

            // Now the keeper stays dead: its PostgreSQL serves until the lease is over, then stops; node2 takes over.
            var deadAt = WriteLoad.Clock.Elapsed;
            await node1.Keeper.KillAsync();
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(postmaster, node1.PostmasterPid);
            await Eventually.TrueAsync(() => Task.FromResult(node1.PostmasterPid is null), "PostgreSQL to stop once the lease is over", TimeSpan.FromSeconds(90));
            Assert.Contains("is gone and its lease is over: stopping PostgreSQL", File.ReadAllText(node1.PostgresLog));
            await cluster.WaitForAsync(s => ProcessCluster.ConvergedPrimary(s) is { Node.NodeName: "node2" } || s.Nodes.Any(n => n.Node.NodeName == "node2"
                && FailoverScenarios.Writable(n.ReportedState)), "node2 to take writes", TimeSpan.FromSeconds(120));
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, "writes on node2", TimeSpan.FromSeconds(120));
            output.WriteLine($"keeper killed for good at {deadAt.TotalSeconds:F1} s; writes back on node2 by {WriteLoad.Clock.Elapsed.TotalSeconds:F1} s");
            await NoLoss.AssertAsync(load, poller, output, cluster.Node("node2"));
        });
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 15 part 6: `pgaf disable automatic-failover` pauses failovers that start by themselves. A crashed primary
/// then stays the primary (no writes, nothing promoted) while the monitor keeps observing; enabling it again fails
/// over at once, with no acknowledged write lost.
/// </summary>
public sealed class AutomaticFailoverTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task With_automatic_failover_disabled_a_dead_primary_is_replaced_only_once_it_is_enabled_again()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            DataNode node1 = cluster.Node("node1"), node2 = cluster.Node("node2");
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);
            await using var poller = WriterPoller.Start(cluster);
            await using var load = await WriteLoad.StartAsync(node1, await cluster.WaitUriAsync(), FailoverScenarios.WriteInterval, TimeSpan.FromMinutes(4));
            await load.WaitAcksAfterAsync(TimeSpan.Zero, 20, "writes on node1");

            output.WriteLine(await cluster.OperatorAsync(new SetAutomaticFailover(ProcessCluster.Formation, Enabled: false)));
            Assert.False((await cluster.StateAsync()).AutomaticFailover);
            await node1.CrashAsync();

            // Once the monitor judges node1 dead, a failover would follow within about a second: none may.
            await cluster.WaitForAsync(s => s.Nodes.Single(n => n.Node.NodeName == "node1").Health == NodeHealth.Bad, "node1 to be judged dead");
            await Task.Delay(TimeSpan.FromSeconds(5));
            var paused = await cluster.StateAsync();
            Assert.All(paused.Nodes.Where(n => n.Node.NodeName == "node2"), n => Assert.False(FailoverScenarios.Writable(n.GoalState), $"node2 was given {n.GoalState}"));
            Assert.True(await node2.ScalarAsync<bool>("SELECT pg_is_in_recovery()"), "node2 was promoted while automatic failover was disabled");

            var resumedAt = WriteLoad.Clock.Elapsed;
            output.WriteLine(await cluster.OperatorAsync(new SetAutomaticFailover(ProcessCluster.Formation, Enabled: true)));
            await load.WaitAcksAfterAsync(resumedAt, 20, "writes on node2 once automatic failover is enabled again");
            Assert.All(load.Acks.Where(a => a.At > resumedAt), a => Assert.Equal(node2.Port, a.Port));
            output.WriteLine($"writes back {(load.Acks.First(a => a.At > resumedAt).At - resumedAt).TotalSeconds:F3} s after enabling");
            await NoLoss.AssertAsync(load, poller, output, node2);
        });
    }
}

using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 16 part 1: three monitor processes share one store and split the groups' partitions between them
/// (docs/architecture.md#groups-spread-over-monitors); optimistic concurrency on each group's stream keeps any two that
/// meet on a group from both advancing it (docs/architecture.md#safety-rules). The data primary is SIGKILLed together
/// with the monitor holding its group, and 1.5 s later the monitor that took the group over, in the middle of the
/// failover: the last monitor finishes it with no acknowledged write lost; the two come back and the old primary rejoins.
/// </summary>
public sealed class MultiMonitorTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task The_last_of_three_monitors_finishes_a_failover_when_two_are_killed_during_it()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync(), monitors: 3);
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            await FailoverScenarios.WaitSynchronousAsync(cluster.Node("node1"), 1);
            await AssertSteadyStreamAsync(cluster);

            var killed = new List<int>();
            var m = await FailoverScenarios.CrashPrimaryAsync(cluster, output.WriteLine, duringFailover: async () =>
            {
                killed.Add(await cluster.PartitionHolderAsync());
                await cluster.Monitors[killed[0]].KillAsync();
                output.WriteLine($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: monitor{killed[0] + 1}, the group's, SIGKILLed with the primary");
                await Task.Delay(TimeSpan.FromSeconds(1.5));
                killed.Add(await cluster.PartitionHolderAsync());
                await cluster.Monitors[killed[1]].KillAsync();
                output.WriteLine($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: monitor{killed[1] + 1}, which took the group over, SIGKILLed in the failover");
            });
            output.WriteLine(m.ToString());
            Assert.Equal("node2", m.NewPrimary);
            Assert.Equal(0, m.LostOnNewPrimary);
            Assert.Equal(0, m.MissingOnStandby);
            Assert.Empty(m.TwoWriters);
            Assert.Equal(2, killed.Distinct().Count());
            Assert.False(killed.Any(i => cluster.Monitors[i].Running), "the two killed monitors stayed dead through the failover and the rejoin");

            // Back with three: the restarted monitors rebuild the group from the store and agree with the survivor.
            foreach (var i in killed) cluster.StartMonitor(i);
            foreach (var i in killed) await cluster.WaitMonitorHealthyAsync(i);
            await cluster.WaitConvergedAsync("node2");
        });
    }

    /// <summary>
    /// In a steady group the three monitors store nothing but the primary's lease renewals. Each instance that reloads
    /// the group after another advanced it once reset every health verdict, flipped it back to good at its next probe
    /// (a stored event), and so made the others reload in turn: a few health events a second, for ever, and health
    /// "unknown" in every answer.
    /// </summary>
    private async Task AssertSteadyStreamAsync(ProcessCluster cluster)
    {
        const string healthEvents = "SELECT count(*) FROM pgaf_monitor.mt_events WHERE type = 'node_health_marked'";
        var before = await cluster.Store.ScalarAsync<long>(healthEvents, "pg_auto_failover");
        await Task.Delay(TimeSpan.FromSeconds(10));
        var after = await cluster.Store.ScalarAsync<long>(healthEvents, "pg_auto_failover");
        output.WriteLine($"health verdicts stored in 10 s of a steady group with three monitors: {after - before}");
        Assert.Equal(before, after);
    }
}

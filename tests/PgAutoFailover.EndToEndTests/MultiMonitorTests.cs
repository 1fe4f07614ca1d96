using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 16 part 1: three monitor processes share one store and the same queues (competing consumers; optimistic
/// concurrency on each group's stream decides who advances it, docs/architecture.md#safety-rules). The data primary
/// is SIGKILLed together with one monitor, and a second monitor 1.5 s later, in the middle of the failover: the last
/// monitor finishes it with no acknowledged write lost; the two come back and the old primary rejoins.
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

            var m = await FailoverScenarios.CrashPrimaryAsync(cluster, output.WriteLine, duringFailover: async () =>
            {
                await cluster.Monitors[0].KillAsync();
                output.WriteLine($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: monitor1 SIGKILLed with the primary");
                await Task.Delay(TimeSpan.FromSeconds(1.5));
                await cluster.Monitors[1].KillAsync();
                output.WriteLine($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: monitor2 SIGKILLed in the failover");
            });
            output.WriteLine(m.ToString());
            Assert.Equal("node2", m.NewPrimary);
            Assert.Equal(0, m.LostOnNewPrimary);
            Assert.Equal(0, m.MissingOnStandby);
            Assert.Empty(m.TwoWriters);
            Assert.False(cluster.Monitors[0].Running || cluster.Monitors[1].Running, "monitors 1 and 2 stayed dead through the failover and the rejoin");

            // Back with three: the restarted monitors rebuild the group from the store and agree with the survivor.
            cluster.StartMonitor(0);
            cluster.StartMonitor(1);
            await cluster.WaitMonitorHealthyAsync(0);
            await cluster.WaitMonitorHealthyAsync(1);
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

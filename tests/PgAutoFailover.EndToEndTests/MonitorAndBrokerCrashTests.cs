using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 7 part 4 (e): SIGKILL of the monitor, then of the broker (a private RabbitMQ node this test owns),
/// during steady state under the write load: the primary keeps taking writes (safety rule 7 (docs/architecture.md#safety-rules): its synchronous
/// standby still streams), nobody fails over, and everything resumes when they return.
/// </summary>
public sealed class MonitorAndBrokerCrashTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);
    /// <summary>How long each outage lasts: well beyond the lease (2 s + 1 s margin) and the keeper-silence timeout (3 s).</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_primary_keeps_taking_writes_while_the_monitor_and_then_the_broker_are_down()
    {
        if (!LocalRabbitNode.Available) throw new InvalidOperationException("rabbitmq-server is not installed");
        await using var rabbit = await LocalRabbitNode.StartAsync();
        await using var cluster = await ProcessCluster.StartAsync(rabbit.AmqpUri);
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            var node1 = cluster.Node("node1");
            var node2 = cluster.Node("node2");
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);

            await using var poller = WriterPoller.Start(cluster);
            await using var load = await WriteLoad.StartAsync(node1, await cluster.WaitUriAsync(), FailoverScenarios.WriteInterval, TimeSpan.FromMinutes(6));
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 50, "the load to start");

            // 1. The monitor dies.
            output.WriteLine($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: SIGKILL monitor");
            await cluster.Monitor.KillAsync();
            await AssertWritesGoOnAsync(load, node1, "the monitor is down");
            Assert.False(await node2.ScalarAsync<bool>("SELECT NOT pg_is_in_recovery()"), "node2 must stay a standby while the monitor is down");
            output.WriteLine($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: monitor restarts");
            cluster.StartMonitor();
            await cluster.WaitMonitorHealthyAsync();
            await cluster.WaitConvergedAsync("node1", Patience);

            // 2. The broker dies.
            output.WriteLine($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: SIGKILL broker");
            await rabbit.KillAsync();
            await AssertWritesGoOnAsync(load, node1, "the broker is down");
            Assert.False(await node2.ScalarAsync<bool>("SELECT NOT pg_is_in_recovery()"), "node2 must stay a standby while the broker is down");
            output.WriteLine($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: broker boots again");
            await rabbit.BootAsync();
            await cluster.WaitConvergedAsync("node1", Patience);
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);
            // Resumed means the monitor hears both keepers and the probes again, not only that it still shows the
            // old state: a switchover asked before the candidate counts as healthy becomes an election instead.
            await cluster.WaitForAsync(state => state.Nodes.Count == 2 && state.Nodes.All(n => n.Health == Contracts.NodeHealth.Good
                    && n.LastReportAt is { } at && DateTimeOffset.UtcNow - at < TimeSpan.FromSeconds(2)),
                "both nodes healthy and reporting after the broker returned", Patience);

            // 3. Everything resumed: the monitor still drives the group (a switchover works).
            var m = await FailoverScenarios.SwitchoverAsync(cluster, output.WriteLine);
            output.WriteLine(m.ToString());
            Assert.Equal("node2", m.NewPrimary);
            Assert.Equal(0, m.LostOnNewPrimary);
            Assert.Empty(m.TwoWriters);

            await NoLoss.AssertAsync(load, poller, output, node2, node1);
        });
    }

    /// <summary>Over the whole outage the old primary goes on acknowledging writes, in its last seconds too (no fencing).</summary>
    private async Task AssertWritesGoOnAsync(WriteLoad load, DataNode primary, string what)
    {
        var start = WriteLoad.Clock.Elapsed;
        await Task.Delay(Outage);
        var acks = load.Acks.Where(a => a.At > start).ToList();
        var lastStretch = acks.Count(a => a.At > start + Outage - TimeSpan.FromSeconds(3));
        output.WriteLine($"while {what}: {acks.Count} writes acknowledged in {Outage.TotalSeconds} s, {lastStretch} in the last 3 s ({load.Summary})");
        Assert.All(acks, a => Assert.Equal(primary.Port, a.Port));
        Assert.True(lastStretch >= 10, $"the primary stopped taking writes while {what}: {lastStretch} acknowledged in the last 3 s of the outage; {load.Summary}");
    }
}

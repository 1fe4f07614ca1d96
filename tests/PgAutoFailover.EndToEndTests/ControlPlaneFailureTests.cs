using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 16: no single point of failure in the control plane. Three monitors share the groups
/// (docs/architecture.md#groups-spread-over-monitors), the broker is a three-node RabbitMQ cluster started as
/// `PGAF_BROKER_NODES=3 ./cluster.sh up` starts it, every durable queue a quorum queue
/// (docs/operations.md#a-broker-cluster), and the monitors' store is a primary with a synchronous standby given as one
/// multi-host connection string (docs/operations.md#a-store-that-fails-over). Each part of the control plane dies in
/// turn; the data group fails over under write load with no acknowledged write lost.
/// </summary>
public sealed class ControlPlaneFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_failover_completes_while_a_monitor_a_broker_node_and_the_store_primary_die_around_it()
    {
        await using var rabbit = await LocalRabbitCluster.StartAsync();
        Say($"broker cluster {rabbit.Hosts}");
        await using var cluster = await ProcessCluster.StartAsync(rabbit.FirstNode, brokerHosts: rabbit.Hosts, monitors: 3, storePair: true);
        // A bound on the whole scenario: a wait that never ends fails with everything written so far, not a hung run.
        await cluster.WithLogsAsync(() => ScenarioAsync(rabbit, cluster).WaitAsync(TimeSpan.FromMinutes(10)));
    }

    /// <summary>
    /// The data primary is crashed while the failover can still be undone.
    /// <list type="number">
    /// <item>Before: the broker node every process is connected to is SIGKILLed; `pgaf show state`, given the host list,
    /// answers from a live node; the node comes back.</item>
    /// <item>Right after the data primary's crash: the monitor holding the group is SIGKILLed; then a second broker
    /// node, which stays down through the failover and the rejoin; then the store's primary, and its standby is
    /// promoted. `pgaf show state` answers after each.</item>
    /// </list>
    /// The broker node the processes are connected to, killed during the failover and left down, is
    /// <see cref="BrokerClusterTests"/>' case.
    /// </summary>
    private async Task ScenarioAsync(LocalRabbitCluster rabbit, ProcessCluster cluster)
    {
        await cluster.AddNodesAndConvergeAsync("node1", "node2");
        await FailoverScenarios.WaitSynchronousAsync(cluster.Node("node1"), 1);
        await AssertDurableQueuesAreQuorumQueuesAsync(rabbit, Say);

        await rabbit.KillAsync(1);
        Say("broker node 1 (every process's) SIGKILLed");
        await ShowStateAnswersAsync(cluster, "broker node 1 down");
        await rabbit.StartNodeAsync(1);
        Say("broker node 1 back");

        var standby = cluster.StoreStandby!;
        const string lastEvent = "SELECT coalesce(max(seq_id), 0) FROM pgaf_monitor.mt_events";
        var storedBefore = await cluster.Store.ScalarAsync<long>(lastEvent, "pg_auto_failover");
        var killedMonitor = -1;
        long countBefore = 0, countOnPromoted = 0;
        var countUpTo = "";
        var m = await FailoverScenarios.CrashPrimaryAsync(cluster, Say, duringFailover: async () =>
        {
            killedMonitor = await cluster.PartitionHolderAsync();
            await cluster.Monitors[killedMonitor].KillAsync();
            Say($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: monitor{killedMonitor + 1}, the group's, SIGKILLed");
            await rabbit.KillAsync(3);
            Say($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: broker node 3 SIGKILLed, down until the rejoin is over");
            // What the monitors stored so far, to find again on the promoted standby (synchronous replication).
            var stored = await cluster.Store.ScalarAsync<long>(lastEvent, "pg_auto_failover");
            countUpTo = $"SELECT count(*) FROM pgaf_monitor.mt_events WHERE seq_id <= {stored}";
            countBefore = await cluster.Store.ScalarAsync<long>(countUpTo, "pg_auto_failover");
            await cluster.Store.KillAsync();
            await standby.PromoteAsync();
            Say($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: store primary SIGKILLed at event {stored}, its standby promoted");
            // Compared up to the last event read, not the maximum: a promoted sequence jumps ahead (PostgreSQL logs
            // sequences 32 values at a time) and the monitors store more the moment the standby is promoted.
            countOnPromoted = await standby.ScalarAsync<long>(countUpTo, "pg_auto_failover");
            await ShowStateAnswersAsync(cluster, "a monitor, a broker node and the store primary down");
        });
        Say(m.ToString());
        Assert.Equal("node2", m.NewPrimary);
        Assert.Equal(0, m.LostOnNewPrimary);
        Assert.Equal(0, m.MissingOnStandby);
        Assert.Empty(m.TwoWriters);
        Assert.Equal(countBefore, countOnPromoted);
        Assert.True(await standby.ScalarAsync<long>(lastEvent, "pg_auto_failover") > storedBefore, "the failover's decisions were stored on the promoted store");
        Assert.False(cluster.Monitors[killedMonitor].Running, "the killed monitor stayed dead through the failover and the rejoin");

        // The control plane converges: the broker node and the monitor come back, rebuild from the promoted store, and
        // every partition is held by a live monitor.
        await rabbit.StartNodeAsync(3);
        cluster.StartMonitor(killedMonitor);
        await cluster.WaitMonitorHealthyAsync(killedMonitor);
        await cluster.WaitConvergedAsync("node2");
        await Eventually.TrueAsync(async () => await standby.ScalarAsync<long>(
                "SELECT count(*) FROM pgaf_monitor.partition_owner WHERE expires_at > now()", "pg_auto_failover") == Contracts.MonitorPartitions.Count,
            "every partition held on the promoted store", TimeSpan.FromSeconds(60));
        Say($"partition holder after the return: monitor{await cluster.PartitionHolderAsync(store: standby) + 1}");
        await ShowStateAnswersAsync(cluster, "everything back");
    }

    /// <summary>rabbitmqctl's list: each durable queue (the monitor's endpoints, the keepers' goal queues, their _error
    /// queues) is a quorum queue; only the non-durable queues of one process are classic.</summary>
    private static async Task AssertDurableQueuesAreQuorumQueuesAsync(LocalRabbitCluster rabbit, Action<string> say)
    {
        var listed = await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("rabbitmqctl",
            ["-n", $"pgaf{rabbit.FirstNode.Port}@localhost", "-q", "list_queues", "-p", "/", "name", "durable", "auto_delete", "type", "--no-table-headers"],
            TimeSpan.FromMinutes(1)), "rabbitmqctl list_queues");
        var queues = listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')).Where(f => f.Length == 4).ToList();
        say(string.Join("\n", queues.Select(f => string.Join(' ', f))));
        Assert.Equal(16, queues.Count(f => f[0].StartsWith("monitor-partition-", StringComparison.Ordinal) && !f[0].Contains('_') && f[3] == "quorum"));
        Assert.Contains(queues, f => f[0].StartsWith("keeper-node-", StringComparison.Ordinal) && f[3] == "quorum");
        Assert.All(queues.Where(f => f[1] == "true"), f => Assert.True(f[3] == "quorum", $"durable queue {f[0]} is {f[3]}"));
        Assert.All(queues.Where(f => f[3] == "classic"), f => Assert.True(f[1] == "false", $"classic queue {f[0]} is durable"));
    }

    /// <summary>`pgaf show state` with the broker host list answers and lists both nodes (retried while a fault settles).</summary>
    private async Task ShowStateAnswersAsync(ProcessCluster cluster, string when)
    {
        ProcessRunner.Result? shown = null;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                shown = await cluster.PgafAsync("show", "state");
                return shown.ExitCode == 0 && shown.StandardOutput.Contains("node1") && shown.StandardOutput.Contains("node2");
            }, $"pgaf show state to answer with {when}", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}; its last answer: {shown?.Combined}");
        }
        Say($"pgaf show state answered with {when}");
    }

    /// <summary>To the test's output, and as it happens to a file beside the test's folders (a hung step shows where).</summary>
    private void Say(string line)
    {
        output.WriteLine(line);
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "pgaf-test", "control-plane-test.log"), $"{DateTime.UtcNow:HH:mm:ss.f} {line}\n");
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 15 part 6, with real processes: the primary and one of its two quorum standbys die together. The election
/// then waits for the dead standby's WAL position, since it may hold writes the survivor lacks. `pgaf perform failover`
/// says so and how far behind the best candidate is; `--allow-data-loss` elects the survivor, which takes writes.
/// </summary>
public sealed class AllowDataLossTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task An_election_waiting_for_a_dead_standby_is_refused_with_the_gap_and_decided_with_allow_data_loss()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2", "node3");
            DataNode node1 = cluster.Node("node1"), node2 = cluster.Node("node2"), node3 = cluster.Node("node3");
            await FailoverScenarios.WaitSynchronousAsync(node1, 2);
            await using var load = await WriteLoad.StartAsync(node1, await cluster.WaitUriAsync(), FailoverScenarios.WriteInterval, TimeSpan.FromMinutes(5));
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, "writes on node1");

            // node3 must die with the primary while its last report says it is not streaming: a standby that last
            // said it streamed holds the old primary "maybe writable" until it is dropped (the other test). Its WAL
            // receiver is stopped until the keeper has reported that; then the keeper is frozen, so that no later
            // report says "streaming" again (PostgreSQL may restart the receiver within a fraction of a second: seen
            // at 0.3 s, and the report that followed landed between the check and the crash), and the check is made
            // once more with any report in flight landed. A report that slipped in thaws the keeper for another try.
            await Eventually.TrueAsync(async () =>
            {
                if (await node3.ScalarAsync<int?>("SELECT pid FROM pg_stat_wal_receiver") is { } receiver)
                    await ProcessRunner.RunAsync("kill", ["-TERM", receiver.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
                await Task.Delay(TimeSpan.FromMilliseconds(200));
                if (await MonitorGaugeAsync(cluster, "pgaf_node_streaming", "node3") != 0) return false;
                await node3.PauseKeeperAsync();
                await Task.Delay(TimeSpan.FromSeconds(2));
                if (await MonitorGaugeAsync(cluster, "pgaf_node_streaming", "node3") == 0) return true;
                await node3.ResumeKeeperAsync();
                return false;
            }, "the monitor to hear that node3 stopped streaming, its keeper frozen after", TimeSpan.FromSeconds(60));
            await Task.WhenAll(node1.CrashAsync(), node3.CrashAsync());
            var crashedAt = WriteLoad.Clock.Elapsed;
            await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == "node2" && n.ReportedState == NodeState.ReportLsn),
                "node2 to report its WAL position to the election", Patience);
            // The election cannot finish by itself: node3, a quorum standby, never reports. Nothing is promoted.
            await Task.Delay(TimeSpan.FromSeconds(5));
            var waiting = await cluster.StateAsync();
            Assert.DoesNotContain(waiting.Nodes, n => FailoverScenarios.Writable(n.GoalState) && n.Node.NodeName != "node1");
            Assert.True(await node2.ScalarAsync<bool>("SELECT pg_is_in_recovery()"), "node2 was promoted while the election waited for node3");

            var refused = await cluster.PgafAsync("perform", "failover");
            output.WriteLine($"pgaf perform failover: exit {refused.ExitCode}: {refused.Combined}");
            Assert.Equal(3, refused.ExitCode);
            Assert.Contains($"the election waits for the WAL position of {Label(waiting, "node3")}", refused.StandardError);
            var candidate = waiting.Nodes.Single(n => n.Node.NodeName == "node2");
            Assert.Contains($"the best candidate, {Label(waiting, "node2")}, has WAL up to {Lsn(candidate.Lsn)}", refused.StandardError);
            Assert.Contains("--allow-data-loss elects it without waiting", refused.StandardError);

            var decidedAt = WriteLoad.Clock.Elapsed;
            var elected = await cluster.PgafAsync("perform", "failover", "--allow-data-loss", "--wait", "45");
            output.WriteLine($"pgaf perform failover --allow-data-loss --wait 45: exit {elected.ExitCode}: {elected.Combined}");
            Assert.True(elected.ExitCode == 0, elected.Combined);
            await load.WaitAcksAfterAsync(decidedAt, 20, "writes on node2 after the election", Patience);
            Assert.All(load.Acks.Where(a => a.At > decidedAt), a => Assert.Equal(node2.Port, a.Port));
            Assert.False(await node2.ScalarAsync<bool>("SELECT pg_is_in_recovery()"), "node2 should be the primary");
            output.WriteLine($"writes back on node2 {(load.Acks.First(a => a.At > decidedAt).At - crashedAt).TotalSeconds:F1} s after the crash; {load.Summary}");
        });
    }

    /// <summary>
    /// A standby that died while it last said it was streaming may be cut off with the old primary, still acknowledging
    /// its commits: even --allow-data-loss waits until an operator drops it. Dropping it ends the wait; the election then
    /// completes by itself, and a repeated command says a failover is already under way.
    /// </summary>
    [Fact]
    public async Task A_dead_standby_that_last_streamed_must_be_dropped_before_the_group_fails_over()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2", "node3");
            DataNode node1 = cluster.Node("node1"), node2 = cluster.Node("node2"), node3 = cluster.Node("node3");
            await FailoverScenarios.WaitSynchronousAsync(node1, 2);

            await Task.WhenAll(node1.CrashAsync(), node3.CrashAsync());
            await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == "node2" && n.ReportedState == NodeState.ReportLsn),
                "node2 to report its WAL position to the election", Patience);
            var waiting = await cluster.StateAsync();

            // node2 reports its WAL position before the old primary's lease has run out: until it has, the refusal
            // names the lease ("may still accept writes until ..."), and it was seen so on a loaded box. Asked again
            // until the lease is over, the refusal names node3, which no lapse of time ends.
            ProcessRunner.Result refused = null!;
            await Eventually.TrueAsync(async () =>
            {
                refused = await cluster.PgafAsync("perform", "failover", "--allow-data-loss");
                output.WriteLine($"pgaf perform failover --allow-data-loss: exit {refused.ExitCode}: {refused.Combined}");
                return !refused.StandardError.Contains("the old primary may still accept writes until", StringComparison.Ordinal);
            }, "a refusal that no longer waits for the old primary's lease", Patience);
            Assert.Equal(3, refused.ExitCode);
            Assert.Contains($"may still accept writes for as long as {Label(waiting, "node3")}, silent since it last said it was streaming",
                refused.StandardError);
            Assert.Contains("removed with pgaf drop node --force", refused.StandardError);
            Assert.True(await node2.ScalarAsync<bool>("SELECT pg_is_in_recovery()"), "node2 was promoted while node3 might still stream from node1");

            var dropped = await cluster.PgafAsync("drop", "node", "--name", "node3", "--force");
            Assert.True(dropped.ExitCode == 0, dropped.Combined);
            await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == "node2" && FailoverScenarios.Writable(n.ReportedState)),
                "node2 to be elected once node3 is dropped", Patience);
            var again = await cluster.PgafAsync("perform", "failover", "--allow-data-loss");
            output.WriteLine($"pgaf perform failover --allow-data-loss, after: exit {again.ExitCode}: {again.Combined}");
            Assert.Equal(3, again.ExitCode);
            Assert.Contains($"{Label(waiting, "node2")} is already the group's primary", again.StandardError);
        });
    }

    /// <summary>One series of the monitor's /metrics for a node, or null when it is absent.</summary>
    private static async Task<double?> MonitorGaugeAsync(ProcessCluster cluster, string metric, string node)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync($"http://127.0.0.1:{cluster.MonitorHttpPort}/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains($"node=\"{node}\"", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A node as the monitor names it in its answers: id, name and address.</summary>
    private static string Label(FormationState state, string name) =>
        state.Nodes.Single(n => n.Node.NodeName == name).Node is var node ? $"node {node.NodeId} \"{name}\" ({node.Host}:{node.Port})" : "";

    private static string Lsn(ulong lsn) => $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}";
}

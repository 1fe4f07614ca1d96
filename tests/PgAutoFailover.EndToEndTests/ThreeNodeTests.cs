using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>Issue 7 part 4 (d): three nodes; the primary crashes; the most advanced standby wins and the other follows it.</summary>
public sealed class ThreeNodeTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Crash_of_the_primary_of_three_promotes_a_standby_holding_every_acknowledged_write_and_the_other_follows()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2", "node3");
            var node1 = cluster.Node("node1");
            await FailoverScenarios.WaitSynchronousAsync(node1, 2);

            await using var poller = WriterPoller.Start(cluster);
            await using var load = await WriteLoad.StartAsync(node1, await cluster.WaitUriAsync(), FailoverScenarios.WriteInterval, TimeSpan.FromMinutes(6));
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 60, "the load to start");

            // Connections opened before the crash: the election freezes the standbys (report_lsn restarts them) about a
            // second after it, so reading must not wait for a fresh connection to a postmaster that is shutting down.
            await using var probe2 = await FrozenLsnProbe.OpenAsync(cluster.Node("node2"));
            await using var probe3 = await FrozenLsnProbe.OpenAsync(cluster.Node("node3"));
            var fault = WriteLoad.Clock.Elapsed;
            await node1.CrashAsync();
            // Both standbys' LSNs once what was in flight on loopback has arrived: the winner must be the most advanced one.
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            var lsns = new Dictionary<string, decimal>
            {
                ["node2"] = await probe2.ReadAsync(Patience),
                ["node3"] = await probe3.ReadAsync(Patience),
            };
            output.WriteLine($"received LSNs after the crash: {string.Join(", ", lsns.Select(kv => $"{kv.Key}={kv.Value}"))}");

            var after = await cluster.WaitForAsync(s =>
                s.Nodes.Where(n => n.Node.NodeName != "node1").Count(n => FailoverScenarios.Writable(n.ReportedState) && n.ReportedState == n.GoalState) == 1
                && s.Nodes.Where(n => n.Node.NodeName != "node1").Count(n => n.ReportedState == NodeState.Secondary && n.GoalState == NodeState.Secondary) == 1,
                "a new primary among node2 and node3, the other its secondary", Patience);
            var winner = cluster.Node(after.Nodes.Single(n => n.Node.NodeName != "node1" && FailoverScenarios.Writable(n.ReportedState)).Node.NodeName);
            var follower = cluster.Node(winner.Name == "node2" ? "node3" : "node2");
            output.WriteLine($"{winner.Name} won, {follower.Name} follows, {(WriteLoad.Clock.Elapsed - fault).TotalSeconds:F3} s after the crash");
            Assert.True(lsns[winner.Name] >= lsns[follower.Name], $"{winner.Name} won with LSN {lsns[winner.Name]} although {follower.Name} had {lsns[follower.Name]}");

            await FailoverScenarios.WaitAcksOnAsync(load, winner, fault);
            await FailoverScenarios.WaitSynchronousAsync(winner, 1);
            await Eventually.TrueAsync(async () => await follower.ScalarAsync<int>("SELECT coalesce((SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'), 0)") == winner.Port,
                $"{follower.Name} to stream from {winner.Name}", Patience);
            output.WriteLine($"window {load.Window(fault, node1.Port)?.TotalSeconds:F3} s");

            // The old primary's keeper comes back: it rejoins as a standby of the winner.
            node1.StartKeeper();
            await cluster.WaitConvergedAsync(winner.Name, Patience);
            await FailoverScenarios.WaitSynchronousAsync(winner, 2);
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 30, "node1 rejoined", Patience);

            await NoLoss.AssertAsync(load, poller, output, winner, follower, node1);
        });
    }

    /// <summary>
    /// (d) with a standby made deterministically behind: node3's WAL receiver is stopped (SIGSTOP) while node2 alone
    /// acknowledges commits (ANY 1 quorum), then killed with the primary, so node3 restarts from what it had flushed.
    /// The election must pick node2, and node3 must follow it with every acknowledged write.
    /// </summary>
    [Fact]
    public async Task Crash_of_the_primary_of_three_elects_the_most_advanced_standby_over_a_lagging_one()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2", "node3");
            var node1 = cluster.Node("node1");
            var node2 = cluster.Node("node2");
            var node3 = cluster.Node("node3");
            await FailoverScenarios.WaitSynchronousAsync(node1, 2);

            await using var poller = WriterPoller.Start(cluster);
            await using var load = await WriteLoad.StartAsync(node1, await cluster.WaitUriAsync(), FailoverScenarios.WriteInterval, TimeSpan.FromMinutes(6));
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 30, "the load to start");

            var receiver = await node3.ScalarAsync<int>("SELECT pid FROM pg_stat_wal_receiver");
            Assert.True(receiver > 0, "node3 has a WAL receiver");
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("kill", ["-STOP", receiver.ToString()], TimeSpan.FromSeconds(10)), "kill -STOP");
            try
            {
                await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 60, "node3's WAL receiver stopped");
                const string received = "SELECT pg_wal_lsn_diff(coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), '0/0')";
                var (lsn2, lsn3) = (await node2.ScalarAsync<decimal>(received), await node3.ScalarAsync<decimal>(received));
                output.WriteLine($"received LSNs before the crash: node2={lsn2}, node3={lsn3}");
                Assert.True(lsn3 < lsn2, $"node3 ({lsn3}) should be behind node2 ({lsn2})");
                await node1.CrashAsync();
            }
            finally
            {
                // SIGKILL of a PostgreSQL child: node3's postmaster restarts it from the WAL it had flushed.
                await ProcessRunner.RunAsync("kill", ["-KILL", receiver.ToString()], TimeSpan.FromSeconds(10));
            }
            output.WriteLine($"node1 crashed with node3 behind; {load.Summary}");

            var after = await cluster.WaitForAsync(s =>
                s.Nodes.Any(n => n.Node.NodeName == "node2" && FailoverScenarios.Writable(n.ReportedState) && n.ReportedState == n.GoalState)
                && s.Nodes.Any(n => n.Node.NodeName == "node3" && n.ReportedState == NodeState.Secondary && n.GoalState == NodeState.Secondary),
                "node2 (the most advanced) to be the primary and node3 its secondary", Patience);
            Assert.DoesNotContain(after.Nodes, n => n.Node.NodeName == "node3" && FailoverScenarios.Writable(n.ReportedState));
            await Eventually.TrueAsync(async () => await node3.ScalarAsync<int>("SELECT coalesce((SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'), 0)") == node2.Port,
                "node3 to stream from node2", Patience);
            await FailoverScenarios.WaitAcksOnAsync(load, node2, TimeSpan.Zero);
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 30, "node2 took over", Patience);

            await NoLoss.AssertAsync(load, poller, output, node2, node3);
        });
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using PgAutoFailover.Testing.Network;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 13 part 1: data nodes in network namespaces of their own (<see cref="NetworkLab"/>), faults cut with
/// nftables. The write load goes through the multi-host URI from the root namespace; whether each node accepts writes
/// is asked every 100 ms over its Unix socket, which no network fault cuts, so two writers would be seen even when
/// one of them is unreachable.
/// </summary>
public sealed class PartitionTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task An_isolated_primary_fences_itself_its_standby_takes_over_and_it_rejoins_after_the_heal()
    {
        await OnPairAsync(async (cluster, lab, node1, node2, poller, load) =>
        {

            var cut = WriteLoad.Clock.Elapsed;
            await lab.IsolateAsync(1);
            output.WriteLine($"node1 isolated at {cut.TotalSeconds:F3} s, {DateTime.UtcNow:HH:mm:ss.fff} UTC ({lab})");
            await Eventually.TrueAsync(async () => !await WritableAsync(node1), "node1 to fence itself (seen over its Unix socket)", Patience);
            var fenced = WriteLoad.Clock.Elapsed;
            await WaitTakeoverAsync(cluster, load, node2, cut);
            var window = load.Window(cut, node1.Port);
            output.WriteLine($"node1 refused writes {(fenced - cut).TotalSeconds:F3} s after the cut; write outage {window?.TotalSeconds:F3} s");
            Assert.NotNull(window);

            await HealAndRejoinAsync(cluster, lab, load, poller, primary: node2, rejoining: node1);
        });
    }

    /// <summary>
    /// The primary loses the control plane (broker, monitor, health-checker; and the root namespace's clients) while its
    /// standby still streams from it. It keeps serving while the standby replies, so the monitor cannot prove it fenced
    /// until the standby stops replicating: the failover must wait for that, and never give two writers.
    /// The monitor's wall clock is stepped an hour forward while it waits (docs/faults.md, "A clock step"): read off the
    /// host's clock, the wait would end at the next decision and node2 would take writes beside node1 until node1's
    /// lease ran out. The lease is 5 s here, not 1.5 s, so that the next decision (within a second of the step) surely
    /// comes before node1 fences: with the default lease a wait cut short could still end after the fence, and the test
    /// would then pass on a clock it should fail on (checked: it fails with the monitor on the host's clock).
    /// </summary>
    [Fact]
    public async Task A_primary_cut_from_the_control_plane_while_its_standby_streams_is_replaced_without_two_writers_through_a_clock_step()
    {
        var monitorClock = SteppableClock.Create(Path.Combine(Path.GetTempPath(), "pgaf-test"));
        await OnPairAsync(async (cluster, lab, node1, node2, poller, load) =>
        {

            var cut = WriteLoad.Clock.Elapsed;
            await lab.CutAsync(1, [lab.HostAddress]);
            output.WriteLine($"node1 cut from {lab.HostAddress} at {cut.TotalSeconds:F3} s, {DateTime.UtcNow:HH:mm:ss.fff} UTC; node2 ({lab.Address(2)}) still reaches it");
            // From node2's report that it stopped replicating the monitor waits a lease and the margin (2 s by default).
            // The step lands inside that wait: a step before the report would only move the instant it counts from.
            await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == node2.Name && n.ReportedState == NodeState.StopReplication),
                "node2 to stop replicating", Patience);
            await monitorClock.StepAsync(TimeSpan.FromHours(1));
            var stepped = WriteLoad.Clock.Elapsed;
            output.WriteLine($"monitor's clock stepped an hour forward {(stepped - cut).TotalSeconds:F3} s after the cut, node2 stopped replicating");
            await WaitTakeoverAsync(cluster, load, node2, cut);
            output.WriteLine($"node2 writable {(WriteLoad.Clock.Elapsed - cut).TotalSeconds:F3} s after the cut at the latest; write outage {load.Window(cut, node1.Port)?.TotalSeconds:F3} s");
            Assert.False(await WritableAsync(node1), "node1 still accepts writes after node2 took over");

            await HealAndRejoinAsync(cluster, lab, load, poller, primary: node2, rejoining: node1);
        }, new Dictionary<string, string>(monitorClock.Environment) { ["Monitor__Core__PrimaryLease"] = "00:00:05" });
    }

    /// <summary>
    /// The synchronous standby is isolated: the primary's commits wait for it until the monitor turns synchronous
    /// replication off (wait_primary), and, once the link heals, turn it back on only when the standby streams and
    /// has caught up, so writes never block behind a standby that is not there (issue 13 defect 4).
    /// </summary>
    [Fact]
    public async Task An_isolated_standby_stops_blocking_commits_and_takes_them_again_only_once_it_streams()
    {
        await OnPairAsync(async (cluster, lab, node1, node2, poller, load) =>
        {

            var cut = WriteLoad.Clock.Elapsed;
            await lab.IsolateAsync(2);
            output.WriteLine($"node2 isolated at {cut.TotalSeconds:F3} s, {DateTime.UtcNow:HH:mm:ss.fff} UTC");
            await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == "node1" && n.ReportedState == NodeState.WaitPrimary && n.GoalState == NodeState.WaitPrimary),
                "node1 to run alone as wait_primary", Patience);
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, "writes on node1 without its standby", Patience);
            var alone = load.Acks.Where(a => a.At > cut).ToList();
            var gapAfterCut = PartitionLoad.MaxGap(load, cut, alone.Last().At);
            output.WriteLine($"longest write gap after the cut: {gapAfterCut.TotalSeconds:F3} s");

            var healed = WriteLoad.Clock.Elapsed;
            await lab.HealAsync(2);
            await cluster.WaitConvergedAsync("node1", Patience);
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);
            var synchronous = WriteLoad.Clock.Elapsed;
            await load.WaitAcksAfterAsync(synchronous, 40, "writes once node2 is synchronous again", Patience);
            var gapAfterHeal = PartitionLoad.MaxGap(load, healed, WriteLoad.Clock.Elapsed);
            output.WriteLine($"node2 synchronous again {(synchronous - healed).TotalSeconds:F3} s after the heal; longest write gap since the heal {gapAfterHeal.TotalSeconds:F3} s");
            // Liveness bound, generous for a loaded machine: a commit blocked behind a standby that does not stream
            // would wait until the monitor gives up on it again (tens of seconds), not a few seconds.
            Assert.True(gapAfterHeal < TimeSpan.FromSeconds(10), $"writes blocked {gapAfterHeal.TotalSeconds:F3} s after the heal");
            await NoLoss.AssertAsync(load, poller, output, node1, node2);
        });
    }

    /// <summary>
    /// Only the replication link is cut: both nodes still reach the control plane and the clients, both ends read
    /// "streaming" until wal_sender_timeout, and every commit waits for a standby that receives nothing. The primary's
    /// keeper reports how long its WAL has waited for a flush, and the monitor turns synchronous replication off
    /// (SYNC-ACK-STALL) while the cut still holds; after the heal the standby is synchronous again with no write lost.
    /// </summary>
    [Fact]
    public async Task A_cut_replication_link_stops_holding_commits_while_it_lasts()
    {
        await OnPairAsync(async (cluster, lab, node1, node2, poller, load) =>
        {

            var cut = WriteLoad.Clock.Elapsed;
            await lab.CutAsync(1, [lab.Address(2)]);
            output.WriteLine($"replication link node1 ({lab.Address(1)}) - node2 ({lab.Address(2)}) cut at {cut.TotalSeconds:F3} s, {DateTime.UtcNow:HH:mm:ss.fff} UTC");
            await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == "node1" && n.ReportedState == NodeState.WaitPrimary && n.GoalState == NodeState.WaitPrimary),
                "node1 to commit without its standby", Patience);
            var alone = WriteLoad.Clock.Elapsed;
            await load.WaitAcksAfterAsync(alone, 20, "writes on node1 while the link is still cut", Patience);
            output.WriteLine($"node1 in wait_primary {(alone - cut).TotalSeconds:F3} s after the cut; longest write gap since the cut " +
                             $"{PartitionLoad.MaxGap(load, cut, WriteLoad.Clock.Elapsed).TotalSeconds:F3} s");
            var events = await cluster.PgafAsync("show", "events", "--count", "100");
            Assert.True(events.ExitCode == 0, events.Combined);
            // The stall rule, not the 10 s stall of a standby that is gone (MAIN-REPLICATION-STALL), nor the probes.
            Assert.Contains("for a standby: disable synchronous replication so writes continue", events.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(NodeState.CatchingUp, (await cluster.StateAsync()).Nodes.Single(n => n.Node.NodeName == "node2").GoalState);

            await HealAndRejoinAsync(cluster, lab, load, poller, primary: node1, rejoining: node2, cutOn: node1);
        });
    }

    /// <summary>
    /// Runs <paramref name="scenario"/> on node1 (the primary) and node2 (its synchronous standby) in a lab of their own,
    /// with the history poller and the write load running; the services' logs are shown if it fails.
    /// </summary>
    private async Task OnPairAsync(Func<ProcessCluster, NetworkLab, DataNode, DataNode, WriterPoller, WriteLoad, Task> scenario,
        IReadOnlyDictionary<string, string>? monitorSettings = null)
    {
        await using var lab = await NetworkLab.CreateAsync(2);
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync(), monitorSettings);
        await cluster.WithLogsAsync(async () =>
        {
            var (node1, node2) = await AddPairAsync(cluster, lab);
            await using var poller = WriterPoller.Start(cluster);
            await using var load = await PartitionLoad.StartAsync(cluster, node1);
            await scenario(cluster, lab, node1, node2, poller, load);
        });
    }

    /// <summary>node1 and node2 in the lab's namespaces 1 and 2, converged with node1 the primary and node2 its synchronous standby.</summary>
    private static async Task<(DataNode Node1, DataNode Node2)> AddPairAsync(ProcessCluster cluster, NetworkLab lab)
    {
        var node1 = await cluster.AddNodeAsync("node1", lab, 1);
        var node2 = await cluster.AddNodeAsync("node2", lab, 2);
        await cluster.WaitConvergedAsync("node1", TimeSpan.FromSeconds(240));
        await FailoverScenarios.WaitSynchronousAsync(node1, 1);
        return (node1, node2);
    }

    /// <summary>Heals <paramref name="rejoining"/>'s link (or the cut made on <paramref name="cutOn"/>), waits until it streams as the synchronous standby of <paramref name="primary"/>, and judges the history.</summary>
    private async Task HealAndRejoinAsync(ProcessCluster cluster, NetworkLab lab, WriteLoad load, WriterPoller poller, DataNode primary, DataNode rejoining,
        DataNode? cutOn = null)
    {
        var healed = WriteLoad.Clock.Elapsed;
        await lab.HealAsync(int.Parse((cutOn ?? rejoining).Name["node".Length..], System.Globalization.CultureInfo.InvariantCulture));
        await cluster.WaitConvergedAsync(primary.Name, Patience);
        await FailoverScenarios.WaitSynchronousAsync(primary, 1);
        output.WriteLine($"converged {(WriteLoad.Clock.Elapsed - healed).TotalSeconds:F3} s after the heal, {rejoining.Name} a standby of {primary.Name}");
        await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, $"writes after {rejoining.Name} rejoined", Patience);
        await NoLoss.AssertAsync(load, poller, output, primary, rejoining);
    }

    /// <summary>Waits until <paramref name="next"/> reports a writable state it was assigned and the writer's acknowledgements come from it.</summary>
    private static async Task WaitTakeoverAsync(ProcessCluster cluster, WriteLoad load, DataNode next, TimeSpan cut)
    {
        await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == next.Name && FailoverScenarios.Writable(n.ReportedState) && n.ReportedState == n.GoalState),
            $"{next.Name} to take over", Patience);
        await FailoverScenarios.WaitAcksOnAsync(load, next, cut);
    }

    internal static async Task<bool> WritableAsync(DataNode node)
    {
        try
        {
            return await Sql.ScalarAsync<bool>(new Npgsql.NpgsqlConnectionStringBuilder
            {
                Host = node.WatchHost, Port = node.Port, Username = "postgres", Database = "postgres", Pooling = false, Timeout = 2,
            }.ConnectionString, "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'");
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or IOException)
        {
            return false;
        }
    }
}

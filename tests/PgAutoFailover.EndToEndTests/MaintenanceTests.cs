using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>Issue 7 part 4 (c): maintenance of the standby, then of the primary, under the write load, with the two-writer poller.</summary>
public sealed class MaintenanceTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Maintenance_of_the_standby_then_of_the_primary_keeps_one_writer_and_loses_nothing()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            var node1 = cluster.Node("node1");
            var node2 = cluster.Node("node2");
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);
            var state = await cluster.StateAsync();
            long id1 = cluster.NodeId(state, "node1"), id2 = cluster.NodeId(state, "node2");

            await using var poller = WriterPoller.Start(cluster);
            await using var load = await WriteLoad.StartAsync(node1, await cluster.WaitUriAsync(), FailoverScenarios.WriteInterval, TimeSpan.FromMinutes(6));
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 50, "the load to start");

            // The standby: the primary stops waiting for it (wait_primary) and keeps taking writes.
            var standbyPhase = WriteLoad.Clock.Elapsed;
            output.WriteLine($"{standbyPhase.TotalSeconds:F3} s: maintenance of node2 (standby)");
            await cluster.OperatorAsync(new EnableMaintenance(ProcessCluster.Formation, id2, false));
            await cluster.WaitForAsync(s => Is(s, "node2", NodeState.Maintenance) && Is(s, "node1", NodeState.WaitPrimary), "node2 in maintenance, node1 wait_primary", Patience);
            Assert.False(await AcceptsWritesAsync(node2), "a standby in maintenance never takes writes");
            var mark = WriteLoad.Clock.Elapsed;
            await load.WaitAcksAfterAsync(mark, 50, "node2 went to maintenance", Patience);
            Assert.All(load.Acks.Where(a => a.At > mark), a => Assert.Equal(node1.Port, a.Port));

            var standbyBack = WriteLoad.Clock.Elapsed;
            output.WriteLine($"{standbyBack.TotalSeconds:F3} s: node2 leaves maintenance");
            await cluster.OperatorAsync(new DisableMaintenance(ProcessCluster.Formation, id2));
            await cluster.WaitConvergedAsync("node1", Patience);
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);

            // The primary: a planned failover to node2, then node1 rests in maintenance.
            output.WriteLine($"{WriteLoad.Clock.Elapsed.TotalSeconds:F3} s: maintenance of node1 (primary)");
            var fault = WriteLoad.Clock.Elapsed;
            await cluster.OperatorAsync(new EnableMaintenance(ProcessCluster.Formation, id1, true));
            await cluster.WaitForAsync(s => Is(s, "node1", NodeState.Maintenance) && FailoverScenarios.Writable(Reported(s, "node2")) && Reported(s, "node2") == Goal(s, "node2"),
                "node1 in maintenance, node2 the primary", Patience);
            await FailoverScenarios.WaitAcksOnAsync(load, node2, fault);
            output.WriteLine($"write window of the primary's maintenance: {load.Window(fault, node1.Port)?.TotalSeconds:F3} s");

            var primaryBack = WriteLoad.Clock.Elapsed;
            output.WriteLine($"{primaryBack.TotalSeconds:F3} s: node1 leaves maintenance");
            await cluster.OperatorAsync(new DisableMaintenance(ProcessCluster.Formation, id1));
            await cluster.WaitConvergedAsync("node2", Patience);
            await FailoverScenarios.WaitSynchronousAsync(node2, 1);
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 30, "node1 rejoined", Patience);

            var end = WriteLoad.Clock.Elapsed;
            await NoLoss.AssertAsync(load, poller, output, node2, node1);
            // The "one writer" check means something only if the poller watched every phase; how many rounds fit
            // in a phase depends on the box's load (a round opens a connection to every node), so count is not asserted.
            output.WriteLine($"poller: {poller.Rounds} rounds");
            Assert.True(poller.RoundsBetween(standbyPhase, standbyBack) > 0, "the poller watched the standby's maintenance");
            Assert.True(poller.RoundsBetween(fault, primaryBack) > 0, "the poller watched the primary's maintenance");
            Assert.True(poller.RoundsBetween(primaryBack, end) > 0, "the poller watched node1's rejoin");
        });
    }

    private static async Task<bool> AcceptsWritesAsync(DataNode node)
    {
        try { return await node.ScalarAsync<bool>("SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'"); }
        catch (Npgsql.NpgsqlException) { return false; }
    }

    private static NodeState Reported(FormationState s, string name) => s.Nodes.Single(n => n.Node.NodeName == name).ReportedState;
    private static NodeState Goal(FormationState s, string name) => s.Nodes.Single(n => n.Node.NodeName == name).GoalState;
    private static bool Is(FormationState s, string name, NodeState state) => Reported(s, name) == state && Goal(s, name) == state;
}

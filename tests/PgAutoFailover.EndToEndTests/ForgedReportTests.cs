using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 13 defect 1: one forged ReportNodeState with a far-future sequence made the monitor drop every later report
/// of that node, silently and for good. The forger here also claims a later keeper epoch than the keeper's own (a
/// stranger reading the bus could copy the real one): the keeper is told the epoch to pass and is heard again at once.
/// </summary>
public sealed class ForgedReportTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task A_forged_far_future_report_silences_the_keeper_for_one_report_only()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodeAsync("node1");
            var state = await cluster.WaitForAsync(s => s.Nodes.Single() is { ReportedState: NodeState.Single, GoalState: NodeState.Single },
                "node1 to run as single", TimeSpan.FromSeconds(120));
            var node = state.Nodes.Single();

            var forged = new ReportNodeState(ProcessCluster.Formation, node.Node.GroupId, node.Node.NodeId, NodeState.Single,
                true, node.Timeline, node.Lsn, "", null, long.MaxValue - 1, DateTimeOffset.UtcNow, Epoch: 5);
            Assert.IsType<NodeGoal>(await cluster.RequestAsync<ReportNodeState, NodeGoal, NodeReportRejected>(forged));
            var forgedAt = (await cluster.StateAsync()).Nodes.Single().LastReportAt!.Value;
            output.WriteLine($"forged report taken at {forgedAt:O}");

            // Only the keeper's own reports can move the report time on from here: without the epoch they never would.
            await cluster.WaitForAsync(s => s.Nodes.Single().LastReportAt > forgedAt + TimeSpan.FromSeconds(2),
                "the keeper's reports to be taken again after the forged one", TimeSpan.FromSeconds(60));
            await Eventually.TrueAsync(() => Task.FromResult(cluster.Node("node1").Keeper.Tail(200).Contains("reporting again as epoch")),
                "the keeper to log the refusal and its new epoch");
            Assert.Contains("comes from an earlier keeper run", cluster.Monitor.Tail(400));
        });
    }
}

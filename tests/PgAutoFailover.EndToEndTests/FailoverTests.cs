using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 7 part 4 (a), (b) and (f): the whole deployment as real processes, a continuous write load through
/// the uri-service's multi-host uri, and a poller that checks every 100 ms that no two nodes accept writes.
/// Default product timings; the tests assert correctness only (no loss, one writer, roles), never speed.
/// </summary>
public sealed class FailoverTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Crash_of_the_primary_loses_no_acknowledged_write_and_the_old_node_rejoins_as_synchronous_standby()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            await FailoverScenarios.WaitSynchronousAsync(cluster.Node("node1"), 1);

            var m = await FailoverScenarios.CrashPrimaryAsync(cluster, output.WriteLine);
            output.WriteLine(m.ToString());

            await AssertRolesSwappedWithoutLossAsync(cluster, m);
            // node2 took writes no standby acknowledged while node1 was down; once the rejoined node1 streamed them, its
            // keeper reported at once rather than at the end of its period (the monitor waits for it to make node1 a secondary).
            Assert.Contains("A standby acknowledges the WAL again: reporting now", cluster.Node("node2").Keeper.Tail(int.MaxValue));
        });
    }

    [Fact]
    public async Task Switchover_swaps_the_roles_without_losing_a_write_and_both_nodes_end_healthy()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            await FailoverScenarios.WaitSynchronousAsync(cluster.Node("node1"), 1);

            var m = await FailoverScenarios.SwitchoverAsync(cluster, output.WriteLine);
            output.WriteLine(m.ToString());

            await AssertRolesSwappedWithoutLossAsync(cluster, m);

            // And back: a second switchover returns the roles, still without loss.
            var back = await FailoverScenarios.SwitchoverAsync(cluster, output.WriteLine);
            output.WriteLine(back.ToString());
            Assert.Equal("node1", back.NewPrimary);
            Assert.Equal(0, back.LostOnNewPrimary);
            Assert.Equal(0, back.MissingOnStandby);
            Assert.Empty(back.TwoWriters);
        });
    }

    /// <summary>node1 → node2 with every acknowledged write kept, one writer throughout, and PostgreSQL agreeing on the roles.</summary>
    private static async Task AssertRolesSwappedWithoutLossAsync(ProcessCluster cluster, FailoverMeasurement m)
    {
        Assert.Equal("node1", m.OldPrimary);
        Assert.Equal("node2", m.NewPrimary);
        Assert.True(m.Acknowledged > 100, m.ToString());
        Assert.Equal(0, m.LostOnNewPrimary);
        Assert.Equal(0, m.MissingOnStandby);
        Assert.Empty(m.TwoWriters);
        Assert.True(await cluster.Node("node1").ScalarAsync<bool>("SELECT pg_is_in_recovery()"), "the old primary came back as a standby");
        Assert.False(await cluster.Node("node2").ScalarAsync<bool>("SELECT pg_is_in_recovery()"));
    }
}

using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 16 part 3: the monitor's store is a primary with a synchronous standby, and the monitor is given both in one
/// multi-host connection string with Target Session Attributes=read-write (docs/operations.md#a-store-that-fails-over).
/// The store's primary is killed and its standby promoted; then the data group's primary is killed: the monitor
/// decides that failover on the promoted store, with no acknowledged write lost.
/// </summary>
public sealed class StoreFailoverTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task The_monitor_fails_a_data_group_over_after_its_own_store_failed_over()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync(), storePair: true);
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            await FailoverScenarios.WaitSynchronousAsync(cluster.Node("node1"), 1);
            var standby = cluster.StoreStandby!;
            const string lastEvent = "SELECT coalesce(max(seq_id), 0) FROM pgaf_monitor.mt_events";
            var storedBefore = await cluster.Store.ScalarAsync<long>(lastEvent, "pg_auto_failover");
            var countUpTo = $"SELECT count(*) FROM pgaf_monitor.mt_events WHERE seq_id <= {storedBefore}";
            var countBefore = await cluster.Store.ScalarAsync<long>(countUpTo, "pg_auto_failover");

            await cluster.Store.KillAsync();
            await standby.PromoteAsync();
            // Synchronous replication: every decision the monitor stored is on the promoted store. Compare the events
            // up to the last one read, not the maximum: the monitor may store more the moment the standby is promoted,
            // and a promoted sequence jumps ahead (PostgreSQL logs sequences 32 values at a time).
            Assert.Equal(countBefore, await standby.ScalarAsync<long>(countUpTo, "pg_auto_failover"));
            output.WriteLine($"store primary killed, standby promoted at event {storedBefore}");
            await cluster.WaitForAsync(s => ProcessCluster.Converged(s, "node1"), "the monitor answering from the promoted store");

            var m = await FailoverScenarios.CrashPrimaryAsync(cluster, output.WriteLine);
            output.WriteLine(m.ToString());
            Assert.Equal("node2", m.NewPrimary);
            Assert.Equal(0, m.LostOnNewPrimary);
            Assert.Empty(m.TwoWriters);
            Assert.True(await standby.ScalarAsync<long>(lastEvent, "pg_auto_failover") > storedBefore, "the failover's decisions were stored on the promoted store");
        });
    }
}

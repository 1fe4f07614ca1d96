using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Store;
using PgAutoFailover.Testing;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.IntegrationTests.Monitor;

/// <summary>
/// Handing partitions from one monitor instance to another (docs/architecture.md#groups-spread-over-monitors) when an
/// endpoint takes long to stop, as on a loaded machine: a stop waits for the messages being handled.
/// </summary>
public sealed class PartitionHandoverTests(RabbitMqFixture broker) : MonitorTestBed(broker), IClassFixture<RabbitMqFixture>
{
    // The default lease; the stop is held for longer than two of them.
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The first instance holds every partition; a second starts, and the first lets the upper half go. One of those
    /// partitions has a report in hand whose append waits on a row lock the test holds, so its endpoint cannot stop.
    /// The first keeps renewing its other holds meanwhile: no instance loses a partition to the other, the slow one is
    /// let go once its report is answered, and each ends with half. (When the renewals waited for the endpoints, every
    /// hold of the first ran out behind the stuck stop and the second took them: under load the instances took each
    /// other's partitions in turn.)
    /// </summary>
    [Fact]
    public async Task A_partition_slow_to_stop_costs_its_holder_none_of_its_other_holds()
    {
        var logs = new LogCapture();
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings, adjust: logs.Into("PgAutoFailover.Monitor.Groups"));
        var formation = Enumerable.Range(0, 1000).Select(i => $"slow{i}").First(f => MonitorPartitions.Of(f, 0) >= MonitorPartitions.Count / 2);
        var partition = MonitorPartitions.Of(formation, 0);
        Assert.IsType<OperatorCommandSucceeded>(await h.RequestAsync<CreateFormation, OperatorCommandSucceeded, OperatorCommandRefused>(
            new CreateFormation(formation, "postgres", 0)));
        var node = Assert.IsType<NodeRegistered>(await h.RegisterAsync(formation, 6101, "a")).Node;
        Assert.Equal(NodeState.Single, Assert.IsType<NodeGoal>(await h.ReportAsync(node, Init, 1)).GoalState);
        var first = h.Monitor.Services.GetRequiredService<PartitionOwner>();
        Assert.Equal(MonitorPartitions.Count, Assert.Single(await h.PartitionsAsync()).Count);

        // The group's stream row locked: the report of its new state waits in the first instance's consumer.
        await using var locker = new NpgsqlConnection(StoreConnection);
        await locker.OpenAsync();
        var hold = await locker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("select 1 from pgaf_monitor.mt_streams where id = @id for update", locker, hold))
        {
            lockRow.Parameters.AddWithValue("id", GroupStream.Key(formation, 0));
            Assert.Equal(1, await lockRow.ExecuteScalarAsync());
        }
        var stuck = h.ReportAsync(node, NodeState.Single, 2);
        await Eventually.TrueAsync(() => Store.ScalarAsync<bool>(
                "select exists (select 1 from pg_stat_activity where wait_event_type = 'Lock' and datname = 'pg_auto_failover')", "postgres"),
            "the report's append waiting on the row lock", TimeSpan.FromSeconds(30));

        var secondHost = await h.StartMonitorAsync(FastSettings, logs.Into("PgAutoFailover.Monitor.Groups"));
        var second = secondHost.Services.GetRequiredService<PartitionOwner>();
        var lowerHalf = Enumerable.Range(0, MonitorPartitions.Count / 2).ToList();
        var upperHalf = Enumerable.Range(MonitorPartitions.Count / 2, MonitorPartitions.Count / 2).ToList();
        await Eventually.TrueAsync(() => Task.FromResult(second.Held.SequenceEqual(upperHalf.Where(p => p != partition))),
            "the second instance consuming the upper half but the stuck partition", TimeSpan.FromSeconds(60));
        await Task.Delay(2 * Lease + TimeSpan.FromSeconds(1));
        Assert.False(stuck.IsCompleted, "the report stayed stuck behind the row lock");
        Assert.Equal(lowerHalf, first.Held);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("was taken by another monitor", StringComparison.Ordinal));

        await hold.RollbackAsync();
        Assert.IsType<NodeGoal>(await stuck);
        await Eventually.TrueAsync(() => Task.FromResult(second.Held.SequenceEqual(upperHalf)),
            "the stuck partition let go by the first instance and taken by the second", TimeSpan.FromSeconds(60));
        Assert.Equal(lowerHalf, first.Held);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("was taken by another monitor", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error && e.Category.StartsWith("PgAutoFailover", StringComparison.Ordinal));
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>A primary drops the inactive slots of nodes no longer in the group (NodeGoal.GroupNodeIds), and only those.</summary>
public sealed class SlotCleanupTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    private const string SlotsQuery = "SELECT coalesce(string_agg(slot_name::text, ',' ORDER BY slot_name), '') FROM pg_replication_slots";

    [Fact]
    public async Task A_primary_drops_inactive_slots_of_removed_nodes_only_when_the_monitor_lists_the_group()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (primary, pid, _, sid) = await group.PairAsync();
            var live = $"pgautofailover_standby_{sid}";
            // A removed node's slot, a listed node's inactive slot, and a slot that is not the keeper's.
            await primary.ExecuteAsync("""
                SELECT pg_create_physical_replication_slot('pgautofailover_standby_99');
                SELECT pg_create_physical_replication_slot('pgautofailover_standby_7');
                SELECT pg_create_physical_replication_slot('other_slot');
                """);
            Assert.Equal(1L, await primary.CountAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{live}' AND active"));

            // A monitor that does not list the group (GroupNodeIds null): nothing is dropped, cycle after cycle.
            var before = monitor.LastReport(pid)!.Sequence;
            await Eventually.TrueAsync(() => Task.FromResult(monitor.LastReport(pid)!.Sequence >= before + 6), "six more reports from the primary");
            Assert.Equal(NodeState.Primary, monitor.LastReport(pid)!.CurrentState);
            Assert.Equal(
                string.Join(',', new[] { "other_slot", "pgautofailover_standby_7", "pgautofailover_standby_99", live }.Order(StringComparer.Ordinal)),
                await primary.ScalarAsync<string>(SlotsQuery));

            // The monitor lists the group (both keepers' nodes and node 7): the slot of node 99 goes, the rest stays.
            monitor.ExtraGroupNodeIds = [7];
            monitor.ListGroupNodes = true;
            await Eventually.TrueAsync(async () => await primary.CountAsync("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgautofailover_standby_99'") == 0,
                "slot pgautofailover_standby_99 dropped");
            var after = monitor.LastReport(pid)!.Sequence;
            await Eventually.TrueAsync(() => Task.FromResult(monitor.LastReport(pid)!.Sequence >= after + 4), "four more reports from the primary");
            Assert.Equal(
                string.Join(',', new[] { "other_slot", "pgautofailover_standby_7", live }.Order(StringComparer.Ordinal)),
                await primary.ScalarAsync<string>(SlotsQuery));
            Assert.Equal(1L, await primary.CountAsync($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{live}' AND active"));
            Assert.Single(primary.Log.Lines, l => l.Contains("Dropped replication slot pgautofailover_standby_99"));
            Assert.Null(monitor.LastReport(pid)!.LastError);
        });
    }
}

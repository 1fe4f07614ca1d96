using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>services/keeper/README.md: every node's pg_hba.conf admits the replication role from the hosts of the group's nodes (NodeGoal.GroupHosts).</summary>
public sealed class GroupHostsHbaTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    // What PostgreSQL itself parses from pg_hba.conf: the addresses the replication role may connect from.
    private const string ReplicationAddresses = """
        SELECT coalesce(string_agg(DISTINCT address, ',' ORDER BY address), '') FROM pg_hba_file_rules
        WHERE 'replication' = ANY(database) AND 'pgautofailover_replicator' = ANY(user_name)
        """;

    [Fact]
    public async Task Pg_hba_admits_the_hosts_the_monitor_lists_for_the_group_and_drops_those_it_no_longer_lists()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (primary, pid, standby, sid) = await group.PairAsync();
            // A monitor that does not list the group's hosts: the node's own host (and configured ones) only.
            Assert.Equal("127.0.0.1", await primary.ScalarAsync<string>(ReplicationAddresses));

            // A node joins on another host: both nodes admit it, the primary without leaving primary.
            monitor.AddPhantomNode(7, Ports.Free(), "127.0.0.7");
            monitor.ExtraGroupNodeIds = [7];
            monitor.ListGroupNodes = true;
            foreach (var node in new[] { primary, standby })
            {
                await Eventually.TrueAsync(async () => await node.ScalarAsync<string>(ReplicationAddresses) == "127.0.0.1,127.0.0.7",
                    $"{node.Name}'s pg_hba admitting 127.0.0.7");
            }
            Assert.Equal(0L, await primary.CountAsync("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL"));
            Assert.Contains(primary.Log.Lines, l => l.Contains("pg_hba.conf admits the group's hosts 127.0.0.1, 127.0.0.7"));

            // It leaves the group: its host is no longer admitted.
            monitor.ExtraGroupNodeIds = [];
            foreach (var node in new[] { primary, standby })
            {
                await Eventually.TrueAsync(async () => await node.ScalarAsync<string>(ReplicationAddresses) == "127.0.0.1",
                    $"{node.Name}'s pg_hba without 127.0.0.7");
            }
            Assert.Equal((NodeState.Primary, null), (monitor.LastReport(pid)!.CurrentState, monitor.LastReport(pid)!.LastError));
            Assert.Equal((NodeState.Secondary, null), (monitor.LastReport(sid)!.CurrentState, monitor.LastReport(sid)!.LastError));
            Assert.Equal(1L, await primary.CountAsync($"SELECT count(*) FROM pg_stat_replication WHERE application_name = 'pgautofailover_standby_{sid}' AND state = 'streaming'"));
        });
    }

    [Fact]
    public async Task A_host_listed_by_name_is_admitted_by_its_address_before_any_line_that_needs_a_reverse_lookup()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (primary, pid) = await group.SingleAsync();
            monitor.AddPhantomNode(7, Ports.Free(), "localhost");
            monitor.ExtraGroupNodeIds = [7];
            monitor.ListGroupNodes = true;

            // The keeper looks the name up in the background and writes pg_hba again: its address, then the name.
            const string Lines = """
                SELECT coalesce(string_agg(address || '@' || line_number, ',' ORDER BY line_number), '') FROM pg_hba_file_rules
                WHERE 'replication' = ANY(database) AND 'pgautofailover_replicator' = ANY(user_name)
                """;
            await Eventually.TrueAsync(async () => (await primary.ScalarAsync<string>(Lines) ?? "").Contains("localhost@", StringComparison.Ordinal)
                && primary.Log.Lines.Any(l => l.Contains("Host localhost resolves to 127.0.0.1")), "pg_hba admitting localhost by address and by name");
            var rows = (await primary.ScalarAsync<string>(Lines) ?? "").Split(',').Select(r => r.Split('@')).Select(r => (Address: r[0], Line: int.Parse(r[1]))).ToList();
            var named = rows.Where(r => r.Address == "localhost").Min(r => r.Line);
            Assert.All(rows.Where(r => r.Address != "localhost"), r => Assert.True(r.Line < named, $"{r.Address} on line {r.Line}, after the name on line {named}"));
            Assert.Contains(rows, r => r.Address == "127.0.0.1");
            Assert.Equal(0L, await primary.CountAsync("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL"));
            Assert.Equal(NodeState.Single, monitor.LastReport(pid)!.CurrentState);
        });
    }
}

using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// A keeper restarted with a new name, host or port in its settings tells the monitor (update_node_metadata) before
/// PostgreSQL starts at the new address; what the monitor refuses, or a port PostgreSQL cannot move to because it still
/// runs, is not taken: the node stays where the monitor knows it.
/// </summary>
public sealed class MetadataRestartTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task A_keeper_restarted_with_a_new_name_and_port_announces_them_before_postgres_starts_there()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (node, id) = await group.SingleAsync();
            UpdateNodeMetadata[] Sent() => [.. monitor.Received.OfType<UpdateNodeMetadata>()];
            Assert.Equal(("127.0.0.1", node.Port), (node.PersistedState!.Host, node.PersistedState.Port));

            // Stopped keeper and PostgreSQL; new name and port: announced, then PostgreSQL starts on the new port.
            await node.StopKeeperAsync();
            Assert.False(node.PostmasterRunning);
            var moved = Ports.Free();
            node.Settings["Keeper:Name"] = "west";
            node.Settings["Keeper:Port"] = moved.ToString();
            var reports = monitor.Reports(id).Count;
            await node.StartKeeperAsync();
            await Eventually.TrueAsync(() => Task.FromResult(monitor.Reports(id).Skip(reports).Any(r => r is { CurrentState: NodeState.Single, PgIsRunning: true })),
                "a report of single with PostgreSQL running");
            Assert.Equal([new UpdateNodeMetadata(FakeMonitor.Formation, 0, id, "west", null, moved)], Sent());
            Assert.Equal(moved.ToString(), await Sql.ScalarAsync<string>(At(node, moved), "SHOW port"));
            Assert.Equal(("west", moved), (node.PersistedState!.NodeName, node.PersistedState.Port));
            var log = node.LogText;
            var told = log.IndexOf("the monitor took \"west\"", StringComparison.Ordinal);
            Assert.True(told >= 0, "the monitor took the new identity");
            Assert.True(log.IndexOf("Starting PostgreSQL", told, StringComparison.Ordinal) > told, "PostgreSQL started after the monitor took the new port");

            // Refused (another node has the name): nothing is taken, PostgreSQL starts where the monitor knows the node.
            await node.StopKeeperAsync();
            monitor.AddPhantomNode(9, Ports.Free());
            node.Settings["Keeper:Name"] = "phantom_9";
            node.Settings["Keeper:Port"] = Ports.Free().ToString();
            await node.StartKeeperAsync();
            await Eventually.TrueAsync(() => Task.FromResult(Sent().Length == 2), "the second update");
            await Eventually.TrueAsync(async () => await PortAsync(node, moved) == moved.ToString(), "PostgreSQL back on the port the monitor knows");
            Assert.Contains("the monitor did not take \"phantom_9\"", node.LogText);
            Assert.Equal(("west", moved), (node.PersistedState!.NodeName, node.PersistedState.Port));

            // PostgreSQL still runs when the keeper restarts with a new port: it cannot move, so nothing is announced.
            await node.KillKeeperAsync();
            Assert.True(node.PostmasterRunning);
            node.Settings["Keeper:Name"] = "west";
            node.Settings["Keeper:Port"] = Ports.Free().ToString();
            reports = monitor.Reports(id).Count;
            await node.StartKeeperAsync();
            await Eventually.TrueAsync(() => Task.FromResult(monitor.Reports(id).Skip(reports).Count(r => r is { CurrentState: NodeState.Single, PgIsRunning: true }) >= 3),
                "three reports of single with PostgreSQL running");
            Assert.Equal(2, Sent().Length);
            Assert.Contains($"but PostgreSQL still runs on port {moved}: staying there", node.LogText);
            Assert.Equal(moved.ToString(), await Sql.ScalarAsync<string>(At(node, moved), "SHOW port"));
        });
    }

    /// <summary>The port PostgreSQL says it listens on, asked at <paramref name="port"/>; null while nothing answers there.</summary>
    private static async Task<string?> PortAsync(KeeperNode node, int port)
    {
        try { return await Sql.ScalarAsync<string>(At(node, port), "SHOW port"); }
        catch (NpgsqlException) { return null; }
    }

    private static string At(KeeperNode node, int port) => new NpgsqlConnectionStringBuilder(node.ConnectionString()) { Port = port }.ConnectionString;
}

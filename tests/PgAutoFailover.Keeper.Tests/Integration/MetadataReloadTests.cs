using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// services/keeper/README.md step 2: on reload a keeper pushes a changed name or host to the monitor (update_node_metadata),
/// keeps the old values when the monitor refuses, and a standby follows a primary that moved. A new port needs a restart.
/// </summary>
public sealed class MetadataReloadTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task A_reload_sends_name_and_host_to_the_monitor_and_a_standby_follows_the_moved_primary_but_a_port_waits_for_a_restart()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (primary, pid, standby, sid) = await group.PairAsync();
            UpdateNodeMetadata[] Sent() => [.. monitor.Received.OfType<UpdateNodeMetadata>()];

            // A setting that cannot work refuses the whole reload, as it would refuse a start: nothing changes.
            var (loopPeriod, priority) = (standby.Configured("Keeper:LoopPeriod"), standby.Configured("Keeper:CandidatePriority"));
            standby.Configure("Keeper:LoopPeriod", "-00:00:01");
            standby.Configure("Keeper:CandidatePriority", "10");
            await standby.Loop.ReloadAsync(CancellationToken.None);
            Assert.Contains("Configuration reload refused, nothing changed: Keeper:LoopPeriod is -00:00:01: it must be more than zero", standby.LogText);
            Assert.Empty(monitor.Received.OfType<SetCandidatePriority>());
            standby.Configure("Keeper:LoopPeriod", loopPeriod);
            standby.Configure("Keeper:CandidatePriority", priority);

            // Refused (the primary has the name): the old name stays, in the keeper and in its state, so the next
            // reload asks again.
            standby.Configure("Keeper:Name", primary.Name);
            await standby.Loop.ReloadAsync(CancellationToken.None);
            Assert.Equal([new UpdateNodeMetadata(FakeMonitor.Formation, 0, sid, primary.Name)], Sent());
            Assert.Equal("node2", standby.PersistedState!.NodeName);
            Assert.Contains("The monitor did not take the new name and host", standby.LogText);
            await standby.Loop.ReloadAsync(CancellationToken.None);
            Assert.Equal(2, Sent().Length);

            // Taken: the keeper's state carries the new name.
            standby.Configure("Keeper:Name", "east");
            await standby.Loop.ReloadAsync(CancellationToken.None);
            Assert.Equal(new UpdateNodeMetadata(FakeMonitor.Formation, 0, sid, "east"), Sent()[^1]);
            Assert.Equal("east", standby.PersistedState!.NodeName);
            Assert.DoesNotContain("Name changed from node2 to east, which needs a restart", standby.LogText);

            // The primary moves to another address of the same server: the standby's goals name it there, and the
            // standby re-points primary_conninfo without a restart and streams again (a synchronous commit proves it).
            var standbyStarted = await standby.ScalarAsync<DateTime>("SELECT pg_postmaster_start_time()");
            primary.Configure("Keeper:Host", "localhost");
            await primary.Loop.ReloadAsync(CancellationToken.None);
            Assert.Equal(new UpdateNodeMetadata(FakeMonitor.Formation, 0, pid, null, "localhost"), Sent()[^1]);
            await Eventually.TrueAsync(async () => (await standby.ScalarAsync<string>("SHOW primary_conninfo") ?? "").Contains("host=localhost "),
                "the standby's primary_conninfo at host=localhost");
            await Eventually.TrueAsync(async () => await standby.ScalarAsync<string>(
                    "SELECT coalesce((SELECT status || ' ' || conninfo FROM pg_stat_wal_receiver), '')") is { } receiver
                    && receiver.StartsWith("streaming", StringComparison.Ordinal) && receiver.Contains("host=localhost "),
                "the WAL receiver streaming from host=localhost");
            await primary.ExecuteAsync("CREATE TABLE moved(x int); INSERT INTO moved VALUES (1)");
            await Eventually.TrueAsync(async () => await standby.CountAsync("SELECT count(*) FROM moved") == 1, "the row on the standby");
            Assert.Equal(standbyStarted, await standby.ScalarAsync<DateTime>("SELECT pg_postmaster_start_time()"));
            Assert.Contains($"The primary, node {pid}, moved to localhost:{primary.Port}", standby.LogText);

            // A new port is neither announced nor taken: a monitor told of a port nobody listens on would see the node fail
            // its probes (a primary would be failed over). The keeper says how to move it and goes on where it runs.
            var primaryStarted = await primary.ScalarAsync<DateTime>("SELECT pg_postmaster_start_time()");
            var requests = Sent().Length;
            var newPort = Ports.Free();
            primary.Configure("Keeper:Port", newPort.ToString());
            await primary.Loop.ReloadAsync(CancellationToken.None);
            Assert.Equal(requests, Sent().Length);
            Assert.Contains($"Port changed from {primary.Port} to {newPort}, which needs a restart of the keeper: ignored", primary.LogText);
            Assert.Contains($"To move node {pid} to port {newPort}: on a primary switch over first", primary.LogText);
            var sequence = monitor.LastReport(pid)!.Sequence;
            await Eventually.TrueAsync(() => Task.FromResult(monitor.LastReport(pid)!.Sequence >= sequence + 4), "four more reports from the primary");
            Assert.Equal((NodeState.Primary, true), (monitor.LastReport(pid)!.CurrentState, monitor.LastReport(pid)!.PgIsRunning));
            Assert.Equal(primaryStarted, await primary.ScalarAsync<DateTime>("SELECT pg_postmaster_start_time()"));
        });
    }
}

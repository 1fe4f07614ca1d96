using System.Diagnostics;
using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;
using Xunit.Abstractions;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>The primary lease (safety rule 3, docs/architecture.md#safety-rules) and the rule that a streaming standby keeps a primary up (safety rule 7, docs/architecture.md#safety-rules).</summary>
public sealed class FencingTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);
    /// <summary>What the monitor must add to a lease before a candidate may take writes: check period + fencing + slack for a loaded box.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task An_isolated_primary_fences_itself_within_its_lease_and_acknowledges_no_write_after_it()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        group.Monitor.LeaseDuration = Lease;
        await group.WithLogsAsync(async () =>
        {
            var (node, id) = await group.SingleAsync();
            await node.ExecuteAsync("CREATE TABLE w (id bigserial primary key, at timestamptz default clock_timestamp())");

            using var stop = new CancellationTokenSource();
            var acknowledged = new List<DateTime>();
            var writer = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await using var c = new NpgsqlConnection(node.ConnectionString());
                        await c.OpenAsync();
                        while (!stop.IsCancellationRequested)
                        {
                            await using var cmd = new NpgsqlCommand("INSERT INTO w DEFAULT VALUES", c);
                            await cmd.ExecuteNonQueryAsync();
                            lock (acknowledged) acknowledged.Add(DateTime.UtcNow);
                            await Task.Delay(20);
                        }
                    }
                    catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
                    {
                        await Task.Delay(50);
                    }
                }
            });
            await Eventually.TrueAsync(() => Task.FromResult(acknowledged.Count > 10), "writes to flow");

            // The monitor goes silent: no new lease.
            group.Monitor.Answering = false;
            var silentAt = DateTime.UtcNow;
            var lastGrant = group.Monitor.LastLeaseReply[id];
            var watch = Stopwatch.StartNew();
            await Eventually.TrueAsync(async () => !await node.AcceptsQueriesAsync(), "the primary to fence itself", TimeSpan.FromSeconds(90));
            var fencedAfter = watch.Elapsed;
            await Task.Delay(1000);
            await stop.CancelAsync();
            await writer;

            output.WriteLine($"fenced {fencedAfter.TotalSeconds:F2} s after the monitor went silent (lease {Lease.TotalSeconds} s, last grant {(silentAt - lastGrant).TotalSeconds:F2} s before)");
            DateTime lastAck;
            lock (acknowledged) lastAck = acknowledged.Max();
            Assert.True(lastAck <= lastGrant + Lease + Margin,
                $"a write was acknowledged at {lastAck:O}, after the lease granted at {lastGrant:O} + {Lease} + margin");
            Assert.False(node.PostmasterRunning);
            await Eventually.TrueAsync(() => Task.FromResult(node.PersistedState!.CurrentState == NodeState.DemoteTimeout), "demote_timeout in the state file");
            Assert.Contains(node.Log.Lines, l => l.Contains("fencing PostgreSQL"));
        });
    }

    [Fact]
    public async Task With_the_bus_down_a_primary_whose_standby_streams_keeps_serving_and_everything_resumes_when_it_is_back()
    {
        await using var rabbit = await LocalRabbitNode.StartAsync();
        await using var group = await TestGroup.CreateAsync(rabbit.AmqpUri);
        group.Monitor.LeaseDuration = Lease;
        await group.WithLogsAsync(async () =>
        {
            var (primary, a, standby, _) = await group.PairAsync();
            await primary.ExecuteAsync("CREATE TABLE t (id int primary key)");
            var before = group.Monitor.LastReport(a)!.Sequence;

            await rabbit.KillAsync(); // no broker: no monitor, no pushes, no leases
            await Task.Delay(Lease * 3);
            await primary.ExecuteAsync("INSERT INTO t VALUES (1)"); // synchronous commit: the standby still streams
            Assert.Equal(NodeState.Primary, primary.PersistedState!.CurrentState);
            Assert.True(await standby.IsInRecoveryAsync());
            Assert.Contains(primary.Log.Lines, l => l.Contains("Could not fetch the goal state"));

            await rabbit.BootAsync();
            var after = await group.Monitor.WaitForStateAsync(a, NodeState.Primary, TimeSpan.FromSeconds(120), afterSequence: before);
            Assert.True(after.Sequence > before);
            await primary.ExecuteAsync("INSERT INTO t VALUES (2)");
        });
    }

    [Fact]
    public async Task A_primary_whose_standby_streams_keeps_serving_without_the_monitor_and_fences_once_the_standby_stops()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        group.Monitor.LeaseDuration = Lease;
        await group.WithLogsAsync(async () =>
        {
            var (primary, a, standby, b) = await group.PairAsync();
            await primary.ExecuteAsync("CREATE TABLE t (id int primary key)");

            group.Monitor.Answering = false;
            var silentAfter = group.Monitor.LastReport(a)!.Sequence;
            await Task.Delay(Lease * 3);
            // Lease long expired, but the synchronous standby replies: still serving, synchronously.
            await primary.ExecuteAsync("INSERT INTO t VALUES (1)");
            Assert.False(await primary.IsInRecoveryAsync());
            Assert.Equal(NodeState.Primary, primary.PersistedState!.CurrentState);
            await Eventually.TrueAsync(async () => await standby.CountAsync("SELECT count(*) FROM t") == 1, "row 1 on the standby");

            // Now the standby goes away too: the primary is isolated and must fence within the reply window.
            var watch = Stopwatch.StartNew();
            await standby.StopKeeperAsync();
            await Eventually.TrueAsync(async () => !await primary.AcceptsQueriesAsync(), "the isolated primary to fence itself", TimeSpan.FromSeconds(90));
            output.WriteLine($"isolated primary fenced {watch.Elapsed.TotalSeconds:F2} s after its standby stopped (window {Lease.TotalSeconds} s)");
            await Eventually.TrueAsync(() => Task.FromResult(primary.PersistedState!.CurrentState == NodeState.DemoteTimeout), "demote_timeout in the state file");

            // The monitor comes back and never failed over: demote_timeout → primary restarts PostgreSQL (K36).
            group.Monitor.Answering = true;
            await group.Monitor.WaitForStateAsync(a, NodeState.Primary, afterSequence: silentAfter);
            Assert.False(await primary.IsInRecoveryAsync());
            Assert.Equal("off", await primary.ScalarAsync<string>("SHOW default_transaction_read_only"));
            Assert.Equal(1L, await primary.ScalarAsync<long>("SELECT count(*) FROM t"));
            _ = b;
        });
    }
}

using Npgsql;
using PgAutoFailover.Client;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests.ClientPaths;

/// <summary>
/// Issue 18: the ways an application reaches the primary, each through a real crash of it, all at once on one
/// cluster: the multi-host URI (the baseline), Npgsql through PgAutoFailover.Client, Debian's HAProxy with the shipped
/// configuration, Debian's PgBouncer repointed by the example relay, and the example application (FailoverWriter)
/// as a process. Each path must write on the new primary afterwards and lose no acknowledged write; the outage of
/// each is printed, not asserted (bench/clients/run.py measures them).
/// </summary>
public sealed class ClientPathTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Writes_through_the_package_HAProxy_and_PgBouncer_follow_a_crash_of_the_primary_without_loss()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            DataNode node1 = cluster.Node("node1"), node2 = cluster.Node("node2");
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);
            var uriService = $"http://127.0.0.1:{cluster.UriServiceHttpPort}";

            await using var haproxy = await HaProxy.StartAsync(cluster);
            await using var bouncer = await PgBouncer.StartAsync(cluster, node1);
            await using var source = new PgAutoFailoverDataSource(new PgAutoFailoverClientOptions
            {
                UriServiceUrl = new Uri(uriService),
                Formation = ProcessCluster.Formation,
                ConfigureConnection = cs => { cs.Username = "postgres"; cs.CommandTimeout = 5; },
            });
            await source.StartAsync();
            var writerAcks = Path.Combine(cluster.BaseDirectory, "failover-writer.acks");
            await using var writer = BackgroundProcess.Start(BackgroundProcess.Example("FailoverWriter"),
                ["--uri-service", uriService, "--interval-ms", "20", "--acks", writerAcks], Path.Combine(cluster.BaseDirectory, "failover-writer.log"));

            // Reads: HAProxy's read-only port and the package's read-only source reach the standby.
            await Eventually.TrueAsync(async () => await InRecoveryAsync(haproxy.ConnectionString(haproxy.ReadOnlyPort)) == true,
                "HAProxy's read-only port to reach the standby");
            await using (var read = await source.OpenReadOnlyAsync())
                Assert.Equal(node2.Port, await PortAsync(read));

            await using var poller = WriterPoller.Start(cluster);
            var interval = FailoverScenarios.WriteInterval;
            var limit = TimeSpan.FromMinutes(5);
            var loads = new Dictionary<string, WriteLoad>
            {
                ["multi-host URI"] = await WriteLoad.StartAsync(node1, await cluster.WaitUriAsync(), interval, limit),
                ["PgAutoFailover.Client"] = await WriteLoad.StartAsync(node1, token => source.OpenReadWriteAsync(token), interval, limit),
                ["HAProxy"] = await WriteLoad.StartAsync(node1, WriteLoad.Opener(haproxy.ConnectionString(haproxy.ReadWritePort)), interval, limit),
                ["PgBouncer"] = await WriteLoad.StartAsync(node1, WriteLoad.Opener(bouncer.ConnectionString), interval, limit),
            };
            try
            {
                foreach (var (path, load) in loads)
                    await Eventually.TrueAsync(() => Task.FromResult(load.Acks.Count(a => a.Port == node1.Port) >= 20),
                        $"20 writes on node1 through {path} ({load.Summary}; HAProxy: {haproxy.Tail()}; PgBouncer: {bouncer.Tail()})", Patience);
                await Eventually.TrueAsync(() => Task.FromResult(File.Exists(writerAcks) && File.ReadLines(writerAcks).Count(l => l.Contains($" {node1.Port} ")) >= 20),
                    $"20 writes of FailoverWriter on node1 (log: {writer.Tail()})", Patience);

                var fault = WriteLoad.Clock.Elapsed;
                output.WriteLine($"crash of node1 at {fault.TotalSeconds:F3} s");
                await node1.CrashAsync();

                foreach (var (path, load) in loads)
                {
                    await Eventually.TrueAsync(() => Task.FromResult(load.Acks.Count(a => a.At > fault && a.Port == node2.Port) >= 20),
                        $"20 writes on node2 through {path} after the crash ({load.Summary}; HAProxy: {haproxy.Tail()}; PgBouncer: {bouncer.Tail()})", Patience);
                }
                foreach (var (path, load) in loads)
                    output.WriteLine($"{path}: outage {load.Window(fault, node1.Port)?.TotalSeconds:F3} s; {load.Summary}");

                await Eventually.TrueAsync(() => Task.FromResult(File.ReadAllText(writer.LogFile).Contains($"-> {node2.Port}")),
                    $"FailoverWriter to print its outage (log: {writer.Tail()})", Patience);
                output.WriteLine("FailoverWriter: " + File.ReadLines(writer.LogFile).Last(l => l.Contains("write outage")));
                Assert.Contains("now points at node2", bouncer.RelayLog);
            }
            finally
            {
                foreach (var load in loads.Values) await load.StopAsync();
            }

            await poller.DisposeAsync();
            Assert.Empty(poller.Violations);
            foreach (var (path, load) in loads)
            {
                Assert.True(load.Acks.Count > 40, $"{path}: {load.Summary}");
                var missing = await load.MissingOnAsync(node2);
                Assert.True(missing.Count == 0, $"{path}: {missing.Count} acknowledged writes missing on node2, e.g. {string.Join(", ", missing.Take(5))}");
                await load.DisposeAsync();
            }
        });
    }

    [Fact]
    public async Task With_the_uri_service_dead_the_package_still_finds_the_new_primary_among_its_last_hosts()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            DataNode node1 = cluster.Node("node1"), node2 = cluster.Node("node2");
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);
            await using var source = new PgAutoFailoverDataSource(new PgAutoFailoverClientOptions
            {
                UriServiceUrl = new Uri($"http://127.0.0.1:{cluster.UriServiceHttpPort}"),
                Formation = ProcessCluster.Formation,
                ConfigureConnection = cs => { cs.Username = "postgres"; cs.CommandTimeout = 5; },
            });
            await source.StartAsync();
            await using var poller = WriterPoller.Start(cluster);
            await using var load = await WriteLoad.StartAsync(node1, token => source.OpenReadWriteAsync(token), FailoverScenarios.WriteInterval, TimeSpan.FromMinutes(4));
            await load.WaitAcksAfterAsync(TimeSpan.Zero, 20, "writes through the package");

            // No watch stream, no event: only the hosts it was given and Npgsql's own role checks are left.
            await cluster.UriService.KillAsync();
            var fault = WriteLoad.Clock.Elapsed;
            await node1.CrashAsync();
            await Eventually.TrueAsync(() => Task.FromResult(load.Acks.Count(a => a.At > fault && a.Port == node2.Port) >= 20),
                $"20 writes on node2 through the package with the uri-service dead ({load.Summary})", Patience);
            output.WriteLine($"outage with the uri-service dead: {load.Window(fault, node1.Port)?.TotalSeconds:F3} s; {load.Summary}");
            Assert.Equal("node1", source.LastAnswer?.Primary?.Name); // nothing told it: Npgsql found node2 by itself
            await NoLoss.AssertAsync(load, poller, output, node2);
        });
    }

    private static async Task<bool?> InRecoveryAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
            return (bool?)await cmd.ExecuteScalarAsync();
        }
        catch (NpgsqlException) { return null; }
    }

    private static async Task<int> PortAsync(NpgsqlConnection connection)
    {
        await using var cmd = new NpgsqlCommand("SELECT current_setting('port')::int", connection);
        return (int)(await cmd.ExecuteScalarAsync())!;
    }
}

using System.Net;
using System.Net.Sockets;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Postgres;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>Bad input gives a clear error in the log and the state file, and never damages the data directory.</summary>
public sealed class BadInputTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task A_goal_without_a_transition_is_reported_and_changes_nothing()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var (node, id) = await group.SingleAsync();
            await group.Monitor.AssignAsync(id, NodeState.Secondary);
            const string expected = "does not know how to reach state \"secondary\" from \"single\"";
            await Eventually.TrueAsync(() => Task.FromResult(node.PersistedState?.LastError?.Contains(expected) == true), "the error in the state file");
            Assert.Contains(node.Log.Lines, l => l.Contains(expected));
            Assert.Equal(NodeState.Single, node.PersistedState!.CurrentState);
            Assert.False(await node.IsInRecoveryAsync());
            await node.ExecuteAsync("CREATE TABLE still_writable (id int)");
        });
    }

    [Fact]
    public async Task A_data_directory_of_another_system_is_refused_and_left_untouched()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await using var foreign = await PgCluster.CreateAsync();
        await group.WithLogsAsync(async () =>
        {
            var (node, _) = await group.SingleAsync();
            await node.StopKeeperAsync();

            // Another system's data directory appears where this node's was.
            await foreign.StopAsync();
            var foreignId = await SystemIdentifierAsync(foreign.DataDirectory);
            Directory.Move(node.PgData, node.PgData + ".mine");
            Directory.Move(foreign.DataDirectory, node.PgData);
            var before = Snapshot(node.PgData);

            await node.StartKeeperAsync();
            await Eventually.TrueAsync(() => Task.FromResult(node.Exit.Code != 0), "the keeper to refuse the data directory");
            Assert.Contains("belongs to another PostgreSQL system", node.Exit.Error);
            Assert.Contains("belongs to another PostgreSQL system", node.PersistedState!.LastError);
            Assert.False(node.PostmasterRunning);
            Assert.Equal(foreignId, await SystemIdentifierAsync(node.PgData));
            Assert.Equal(before, Snapshot(node.PgData));
            Directory.Move(node.PgData, foreign.DataDirectory);
        });
    }

    [Fact]
    public async Task Create_with_a_port_in_use_is_refused_before_registering_and_works_once_it_is_free()
    {
        // Issue 13 defect 9: a second node's first goal (wait_standby) needs no PostgreSQL, so create said "done" and
        // exited 0 for a node whose PostgreSQL could never listen on its port.
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var node = group.Node("node1");
            var squatter = new TcpListener(IPAddress.Loopback, node.Port);
            squatter.Start();
            try
            {
                await node.StartKeeperAsync();
                await Eventually.TrueAsync(() => Task.FromResult(node.Exit.Code != 0), "the keeper to refuse");
                Assert.Contains($"port {node.Port} on 127.0.0.1 is in use by another process", node.Exit.Error);
                Assert.False(File.Exists(Path.Combine(node.StateDirectory, "keeper.state")), "nothing registered");
                await node.StopKeeperAsync();
            }
            finally
            {
                squatter.Stop();
            }
            await node.StartKeeperAsync();
            await group.Monitor.WaitForStateAsync(await node.WaitRegisteredAsync(), NodeState.Single);
            Assert.False(await node.IsInRecoveryAsync());
        });
    }

    [Fact]
    public async Task Create_in_a_folder_the_postgres_user_cannot_write_is_refused_before_registering()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            // Only root runs the keeper for another OS user; a test run as postgres could write its own folder.
            Assert.True(ProcessRunner.IsRoot, "the suite runs as root (CI): PostgreSQL then runs as the postgres user");
            var locked = Path.Combine(group.BaseDirectory, "locked");
            Directory.CreateDirectory(locked);
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var node = group.Node("node1");
            node.Settings["Keeper:PgData"] = Path.Combine(locked, "data");
            await node.StartKeeperAsync();
            await Eventually.TrueAsync(() => Task.FromResult(node.Exit.Code != 0), "the keeper to refuse");
            Assert.Contains($"postgres OS user cannot create {Path.Combine(locked, "data")} in {locked}", node.Exit.Error);
            Assert.False(File.Exists(Path.Combine(node.StateDirectory, "keeper.state")), "nothing registered");
        });
    }

    [Fact]
    public async Task An_unreachable_primary_during_base_backup_is_reported_and_damages_nothing()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var deadPort = Ports.Free();
            group.Monitor.AddPhantomNode(99, deadPort);
            group.Monitor.PrimaryNodeId = 99;
            group.Monitor.FirstGoal = NodeState.WaitStandby;
            var node = group.Node("node2");
            await node.StartKeeperAsync();
            var id = await node.WaitRegisteredAsync();
            await group.Monitor.WaitForStateAsync(id, NodeState.WaitStandby);

            await group.Monitor.AssignAsync(id, NodeState.CatchingUp);
            await Eventually.TrueAsync(() => Task.FromResult(node.PersistedState?.LastError?.Contains($"127.0.0.1:{deadPort}") == true), "the base backup error");
            Assert.Contains("cannot reach", node.PersistedState!.LastError);
            Assert.Equal(NodeState.WaitStandby, node.PersistedState.CurrentState);
            Assert.False(Directory.Exists(node.PgData) && Directory.EnumerateFileSystemEntries(node.PgData).Any(), "nothing written to PGDATA");
            Assert.False(node.PostmasterRunning);
        });
    }

    [Fact]
    public async Task A_second_keeper_for_the_same_data_directory_is_refused_and_touches_nothing()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var (first, _) = await group.SingleAsync("node1");
            var second = group.Node("node1"); // same folder, another port
            await second.StartKeeperAsync();
            await Eventually.TrueAsync(() => Task.FromResult(second.Exit.Code != 0), "the second keeper to stop");
            Assert.Contains("another keeper runs", second.Exit.Error);
            await second.StopKeeperAsync();
            Assert.True(await first.AcceptsQueriesAsync(), "the first keeper's PostgreSQL still runs");
            Assert.Null(first.PersistedState!.LastError);
        });
    }

    [Fact]
    public async Task A_rejected_registration_stops_the_keeper_with_the_monitors_reason()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var node = group.Node("rejected");
            await node.StartKeeperAsync();
            await Eventually.TrueAsync(() => Task.FromResult(node.Exit.Code != 0), "the keeper to stop");
            Assert.Contains("rejected the registration", node.Exit.Error);
            Assert.Contains("already in use", node.Exit.Error);
            Assert.False(Directory.Exists(node.PgData), "nothing initialised");
            Assert.False(File.Exists(Path.Combine(node.StateDirectory, "keeper.state")));
        });
    }

    [Fact]
    public async Task Missing_postgresql_binaries_give_a_clear_error()
    {
        var error = Assert.Throws<KeeperException>(() => PgBinaries.Resolve("/nonexistent/pg/bin"));
        Assert.Contains("PostgreSQL binaries not found", error.Message);
        Assert.Contains("/nonexistent/pg/bin", error.Message);
        var code = await KeeperCommandLine.RunAsync(["run", "--pgdata", "/tmp/pgaf-test/nowhere", "--pg-bindir", "/nonexistent/pg/bin"]);
        Assert.Equal(ServiceExitCodes.BadSettings, code); // docs/operations.md#when-a-service-cannot-start
    }

    [Theory]
    [InlineData("--port", "70000")]
    [InlineData("--candidate-priority", "500")]
    [InlineData("--formation", "bad/name")]
    [InlineData("--auth", "md5")]
    public async Task A_setting_out_of_range_stops_create_before_anything_is_touched(string option, string value)
    {
        var pgdata = Path.Combine(Path.GetTempPath(), $"pgaf-bad-{Guid.NewGuid():N}", "pg");
        var code = await KeeperCommandLine.RunAsync(["create", "--pgdata", pgdata, option, value]);
        Assert.Equal(ServiceExitCodes.BadSettings, code);
        Assert.False(Directory.Exists(Path.GetDirectoryName(pgdata)), "nothing created");
    }

    private static async Task<string> SystemIdentifierAsync(string pgdata)
    {
        var r = await ProcessRunner.CheckedAsync(ProcessRunner.RunAsAsync("postgres", Path.Combine(PgCluster.BinDirectory, "pg_controldata"), ["-D", pgdata],
            TimeSpan.FromSeconds(30)), "pg_controldata");
        return r.StandardOutput.Split('\n').First(l => l.StartsWith("Database system identifier")).Split(':')[1].Trim();
    }

    private static string Snapshot(string dir) =>
        string.Join('\n', Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order()
            .Select(f => $"{Path.GetRelativePath(dir, f)} {new FileInfo(f).Length} {File.GetLastWriteTimeUtc(f):O}"));
}

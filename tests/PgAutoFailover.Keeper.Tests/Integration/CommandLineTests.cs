using System.Diagnostics;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;
using Xunit.Abstractions;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>The real executable: keeper create … --run, kill -9, keeper run, SIGTERM.</summary>
public sealed class CommandLineTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Create_and_run_from_the_command_line_and_postgres_does_not_outlive_a_killed_keeper()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        var node = group.Node("cli1");
        var httpPort = Ports.Free();
        var log = Path.Combine(group.BaseDirectory, "cli1.process.log");
        var processes = new List<Process>();
        try
        {
            using var created = Start(group, node, httpPort, log,
                ["create", "--pgdata", node.PgData, "--port", node.Port.ToString(), "--formation", FakeMonitor.Formation, "--name", "cli1", "--run"]);
            processes.Add(created);
            var first = await group.Monitor.WaitForStateAsync(1, NodeState.Single);
            Assert.False(await node.IsInRecoveryAsync());
            using (var http = new HttpClient())
            {
                var health = await http.GetAsync($"http://127.0.0.1:{httpPort}/health");
                Assert.True(health.IsSuccessStatusCode, $"/health answered {health.StatusCode}");
                var metrics = await http.GetStringAsync($"http://127.0.0.1:{httpPort}/metrics");
                Assert.Contains("pgaf_keeper_transitions", metrics);
            }

            // kill -9 the keeper: its PostgreSQL must not go on without it.
            var watch = Stopwatch.StartNew();
            created.Kill();
            await created.WaitForExitAsync();
            await Eventually.TrueAsync(async () => !await node.AcceptsQueriesAsync(), "PostgreSQL to stop after its keeper died");
            output.WriteLine($"PostgreSQL stopped {watch.Elapsed.TotalSeconds:F2} s after kill -9 of its keeper");

            using var running = Start(group, node, httpPort, log, ["run", "--pgdata", node.PgData]);
            processes.Add(running);
            var again = await group.Monitor.WaitForStateAsync(1, NodeState.Single, afterSequence: first.Sequence);
            Assert.True(again.Sequence > first.Sequence);
            await Eventually.TrueAsync(node.AcceptsQueriesAsync, "PostgreSQL back under keeper run");

            await ProcessRunner.RunAsync("kill", ["-TERM", running.Id.ToString()], TimeSpan.FromSeconds(10));
            await running.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
            Assert.Equal(0, running.ExitCode);
            Assert.False(node.PostmasterRunning);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n---- keeper process output ----\n{(File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(60)) : "")}");
        }
        finally
        {
            foreach (var p in processes)
            {
                try { if (!p.HasExited) { p.Kill(); await p.WaitForExitAsync(); } } catch (InvalidOperationException) { }
            }
        }
    }

    [Fact]
    public async Task Create_without_run_reaches_the_first_goal_and_exits()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        var node = group.Node("cli2");
        var log = Path.Combine(group.BaseDirectory, "cli2.process.log");
        using var created = Start(group, node, Ports.Free(), log,
            ["create", "--pgdata", node.PgData, "--port", node.Port.ToString(), "--formation", FakeMonitor.Formation, "--name", "cli2"]);
        try
        {
            await created.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token);
            Assert.Equal(0, created.ExitCode);
            Assert.Equal(NodeState.Single, node.PersistedState!.CurrentState);
            Assert.True(File.Exists(Path.Combine(node.StateDirectory, "keeper.settings.json")));
            Assert.False(node.PostmasterRunning, "PostgreSQL does not run without its keeper");
        }
        catch (Exception e)
        {
            if (!created.HasExited) created.Kill();
            throw new Xunit.Sdk.XunitException($"{e.Message}\n---- keeper process output ----\n{(File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(60)) : "")}");
        }
    }

    private static Process Start(TestGroup group, KeeperNode node, int httpPort, string log, string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "PgAutoFailover.Keeper");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var a in (string[])["-c", "exec \"$0\" \"$@\" >>\"$LOGFILE\" 2>&1", exe, .. args]) info.ArgumentList.Add(a);
        info.Environment["LOGFILE"] = log;
        info.Environment["RABBITMQ_URL"] = group.Amqp.ToString();
        info.Environment["Urls"] = $"http://127.0.0.1:{httpPort}";
        info.Environment["Keeper__ReplicationPasswordFile"] = node.PasswordFile;
        info.Environment["Keeper__NoSync"] = "true";
        info.Environment["Keeper__ExtraSettings__0"] = "fsync=off";
        info.Environment["Keeper__LoopPeriod"] = "00:00:00.500";
        info.Environment["Logging__LogLevel__Default"] = "Information";
        info.Environment["Logging__LogLevel__MassTransit"] = "Warning";
        info.Environment["Logging__LogLevel__Microsoft"] = "Warning";
        return Process.Start(info) ?? throw new InvalidOperationException("could not start the keeper");
    }
}

using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>The data node's entrypoint script, run here with stand-ins for the keeper and gosu.</summary>
public sealed class EntrypointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pgaf-entrypoint-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<ProcessRunner.Result> RunAsync(Dictionary<string, string> environment)
    {
        var bin = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(bin);
        await File.WriteAllTextAsync(Path.Combine(bin, "gosu"), "#!/bin/sh\necho \"as-user $1\"\nshift\nexec \"$@\"\n");
        await File.WriteAllTextAsync(Path.Combine(bin, "keeper"), "#!/bin/sh\necho \"keeper $*\"\n");
        foreach (var file in Directory.GetFiles(bin))
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("chmod", ["+x", file], TimeSpan.FromSeconds(30)), "chmod");

        environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        environment["PGAF_KEEPER_BIN"] = Path.Combine(bin, "keeper");
        environment.TryAdd("PGDATA", Path.Combine(_dir, "data", "pgdata"));
        return await ProcessRunner.RunAsync("bash", [Path.Combine(ComposeTests.RepositoryRoot, "services/keeper/docker-entrypoint.sh")],
            TimeSpan.FromMinutes(1), environment);
    }

    [Fact]
    public async Task Starts_the_keeper_with_create_run_and_the_nodes_settings()
    {
        var result = await RunAsync(new()
        {
            ["RABBITMQ_URL"] = "amqp://pgaf:pw@rabbitmq:5672/",
            ["PGAF_NODE_NAME"] = "node2",
            ["PGAF_FORMATION"] = "sales",
            ["PGAF_CANDIDATE_PRIORITY"] = "70",
        });

        Assert.True(result.ExitCode == 0, result.Combined);
        var pgdata = Path.Combine(_dir, "data", "pgdata");
        Assert.Contains($"keeper create --pgdata {pgdata} --port 5432 --hostname node2 --formation sales --name node2 " +
                        "--pg-bindir /usr/lib/postgresql/15/bin --run --candidate-priority 70", result.StandardOutput);
        if (ProcessRunner.IsRoot) Assert.Contains("as-user postgres", result.StandardOutput);
        Assert.True(Directory.Exists(Path.Combine(_dir, "data")));
    }

    [Fact]
    public async Task Refuses_to_start_without_a_broker_url()
    {
        var result = await RunAsync(new() { ["RABBITMQ_URL"] = "" });

        Assert.Equal(78, result.ExitCode); // bad settings: pgaf-run parks instead of restarting in a loop
        Assert.Contains("RABBITMQ_URL_FILE must be set", result.StandardError);
        Assert.DoesNotContain("keeper create", result.StandardOutput);
    }
}

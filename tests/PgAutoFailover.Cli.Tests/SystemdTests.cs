namespace PgAutoFailover.Cli.Tests;

/// <summary>pgaf show systemd: the unit text it prints and the arguments it refuses, without a monitor or broker.</summary>
public sealed class SystemdTests
{
    [Fact]
    public async Task Keeper_unit_runs_the_keeper_on_its_data_directory_as_its_user()
    {
        var result = await CliRun.RunAsync("show", "systemd", "--pgdata", "/var/lib/postgresql/15/node1");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains("[Unit]", lines);
        Assert.Contains("User=postgres", lines);
        Assert.Contains("ExecStart=/opt/pgaf/keeper/PgAutoFailover.Keeper run --pgdata /var/lib/postgresql/15/node1", lines);
        Assert.Contains("EnvironmentFile=/etc/pgaf/keeper.env", lines);
        Assert.Contains("ExecReload=/bin/kill -HUP $MAINPID", lines);
        // A dropped node's keeper exits 121 (KeeperLoop.NodeDropped); systemd must not start it again.
        Assert.Contains("RestartPreventExitStatus=77 78 121", lines);
        Assert.Contains("WantedBy=multi-user.target", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("DynamicUser", StringComparison.Ordinal));
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Other_services_run_as_a_dynamic_user_with_the_given_paths()
    {
        var result = await CliRun.RunAsync("show", "systemd", "--service", "monitor",
            "--exec", "/usr/local/lib/pgaf monitor/PgAutoFailover.Monitor", "--environment-file", "/etc/pgaf/m.env");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("DynamicUser=yes", result.Stdout);
        Assert.Contains("ExecStart=\"/usr/local/lib/pgaf monitor/PgAutoFailover.Monitor\"\n", result.Stdout);
        Assert.Contains("EnvironmentFile=/etc/pgaf/m.env\n", result.Stdout);
        Assert.DoesNotContain("User=postgres", result.Stdout);
        Assert.Contains("RestartPreventExitStatus=77 78\n", result.Stdout);
    }

    [Theory]
    [InlineData("pgaf: --service must be one of keeper, monitor, health-checker, uri-service, got \"postgres\"", "--service", "postgres")]
    [InlineData("pgaf: --pgdata is required for the keeper's unit")]
    [InlineData("pgaf: --pgdata must be an absolute path, got \"data/node1\"", "--pgdata", "data/node1")]
    [InlineData("pgaf: --pgdata is for the keeper's unit, not the monitor's", "--service", "monitor", "--pgdata", "/d")]
    [InlineData("pgaf: --exec must be an absolute path, got \"keeper\"", "--pgdata", "/d", "--exec", "keeper")]
    [InlineData("pgaf: --user must be an OS user name, got \"a b\"", "--pgdata", "/d", "--user", "a b")]
    public async Task Bad_arguments_get_one_line(string expected, params string[] extra)
    {
        var result = await CliRun.RunAsync(new[] { "show", "systemd" }.Concat(extra).ToArray());

        Assert.Equal(ExitCodes.BadArguments, result.ExitCode);
        Assert.Equal(expected, CliRun.SingleErrorLine(result));
        Assert.Equal("", result.Stdout);
    }
}

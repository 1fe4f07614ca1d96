using Microsoft.Extensions.Logging.Abstractions;
using PgAutoFailover.Keeper.Postgres;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// A stop that races a shutdown already under way. In the fault campaign (seed 576839) a fenced primary's fast
/// shutdown outlasted its limit by a hair: the immediate stop's pg_ctl then found no PID file, while the postmaster's
/// watchdog shell, which notices its child's exit at its next 0.2 s poll, still ran, and the keeper ended on
/// "pg_ctl stop failed". The race is made certain here: a pg_ctl that ends the server itself and then answers as the
/// real one does when the PID file is gone.
/// </summary>
public sealed class StopRaceTests
{
    private const string PgCtlThatLosesTheRace = """
        #!/bin/sh
        # pg_ctl -D PGDATA -m MODE -w -t N stop: the server finishes a shutdown under pg_ctl's feet.
        pid=$(head -1 "$2/postmaster.pid")
        kill -INT "$pid"
        while [ -e "$2/postmaster.pid" ]; do sleep 0.01; done
        echo "pg_ctl: PID file \"$2/postmaster.pid\" does not exist" >&2
        echo "Is server running?" >&2
        exit 1
        """;

    [Fact]
    public async Task A_stop_whose_server_ends_under_pg_ctl_is_a_stop_not_a_failure()
    {
        await using var cluster = await PgCluster.CreateAsync();
        await cluster.StopAsync();
        var bin = Path.Combine(cluster.BaseDirectory, "bin");
        Directory.CreateDirectory(bin);
        foreach (var tool in Directory.GetFiles(PgCluster.BinDirectory))
        {
            if (Path.GetFileName(tool) != "pg_ctl") File.CreateSymbolicLink(Path.Combine(bin, Path.GetFileName(tool)), tool);
        }
        var pgCtl = Path.Combine(bin, "pg_ctl");
        await File.WriteAllTextAsync(pgCtl, PgCtlThatLosesTheRace.Replace("\r\n", "\n", StringComparison.Ordinal));
        File.SetUnixFileMode(pgCtl, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(bin, (UnixFileMode)0b111_101_101);

        var options = new KeeperOptions { PgData = cluster.DataDirectory, StateDirectory = cluster.BaseDirectory, Port = cluster.Port, PostgresDiesWithKeeper = true };
        var server = new PostgresServer(options, PgBinaries.Resolve(bin), new OsCommand(PgCluster.OsUser), NullLogger.Instance);
        await server.StartAsync(CancellationToken.None);
        Assert.True(server.IsPostmasterAlive());

        await server.StopAsync(CancellationToken.None, "immediate", TimeSpan.FromSeconds(30));

        Assert.False(server.IsPostmasterAlive());
        Assert.Null(cluster.PostmasterPid());
    }
}

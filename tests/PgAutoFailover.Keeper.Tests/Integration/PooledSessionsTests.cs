using Microsoft.Extensions.Logging.Abstractions;
using PgAutoFailover.Keeper.Postgres;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// The keeper's statements reuse pooled sessions, and a pooled session never outlives its postmaster: after a
/// restart or a crash and start (a new postmaster.pid), the next statement runs on a fresh backend instead of
/// failing on a dead one.
/// </summary>
public sealed class PooledSessionsTests
{
    private static PgSql KeeperSessionsTo(PgCluster cluster)
    {
        var options = new KeeperOptions { PgData = cluster.DataDirectory, StateDirectory = cluster.BaseDirectory, Port = cluster.Port };
        var server = new PostgresServer(options, PgBinaries.Resolve(PgCluster.BinDirectory), new OsCommand(PgCluster.OsUser), NullLogger.Instance);
        return new PgSql(server);
    }

    private static async Task<int> BackendAsync(PgSql sql) => await sql.ScalarAsync<int>("SELECT pg_backend_pid()", CancellationToken.None);

    [Fact]
    public async Task Statements_share_a_backend_until_the_postmaster_changes_and_never_fail_on_a_dead_one()
    {
        await using var cluster = await PgCluster.CreateAsync();
        using var sql = KeeperSessionsTo(cluster);

        var first = await BackendAsync(sql);
        Assert.Equal(first, await BackendAsync(sql)); // pooled: no new backend per statement

        await cluster.RestartAsync(); // fast shutdown: the pooled backend is gone
        var afterRestart = await BackendAsync(sql);
        Assert.NotEqual(first, afterRestart);

        await cluster.KillAsync(); // crash, then a new postmaster
        await cluster.StartAsync();
        var afterCrash = await BackendAsync(sql);
        Assert.NotEqual(afterRestart, afterCrash);
        Assert.False(await sql.InRecoveryAsync(CancellationToken.None));
    }
}

using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>init → single; wait_standby → catchingup → secondary; single → wait_primary → primary with synchronous_standby_names.</summary>
public sealed class BootstrapTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Primary_and_standby_reach_synchronous_streaming_replication()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var (primary, pid) = await group.SingleAsync();
            Assert.False(await primary.IsInRecoveryAsync());
            await primary.ExecuteAsync("CREATE TABLE t (id int primary key, note text); INSERT INTO t VALUES (1, 'single')");

            var (_, _, standby, sid) = await group.PairAsync((primary, pid));

            // Checked with SQL on both servers, not with the keepers' beliefs.
            Assert.Equal($"FIRST 1 (pgautofailover_standby_{sid})", await primary.ScalarAsync<string>("SHOW synchronous_standby_names"));
            Assert.Equal("sync", await primary.ScalarAsync<string>(
                $"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pgautofailover_standby_{sid}' AND state = 'streaming'"));
            Assert.True(await standby.IsInRecoveryAsync());
            Assert.Equal("streaming", await standby.ScalarAsync<string>("SELECT status FROM pg_stat_wal_receiver"));
            Assert.Equal(1L, await primary.ScalarAsync<long>($"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgautofailover_standby_{sid}' AND active"));

            // A synchronous commit on the primary is visible on the standby.
            await primary.ExecuteAsync("INSERT INTO t VALUES (2, 'sync')");
            await Eventually.TrueAsync(async () => await standby.CountAsync("SELECT count(*) FROM t") == 2, "row 2 on the standby");
            await Assert.ThrowsAnyAsync<Npgsql.PostgresException>(() => standby.ExecuteAsync("INSERT INTO t VALUES (3, 'standby')"));

            // Security by default: scram for the replication and health-check roles, from the group's hosts only.
            Assert.StartsWith("SCRAM-SHA-256$", await primary.ScalarAsync<string>("SELECT rolpassword FROM pg_authid WHERE rolname = 'pgautofailover_replicator'"));
            Assert.StartsWith("SCRAM-SHA-256$", await primary.ScalarAsync<string>("SELECT rolpassword FROM pg_authid WHERE rolname = 'pgautofailover_monitor'"));
            var hba = await primary.ScalarAsync<long>(
                "SELECT count(*) FROM pg_hba_file_rules WHERE 'pgautofailover_replicator' = ANY(user_name) AND auth_method = 'scram-sha-256' AND address = '127.0.0.1'");
            Assert.True(hba >= 2, "replication and database entries for the replicator");
            Assert.Equal(0L, await primary.ScalarAsync<long>("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'"));
            var mode = File.GetUnixFileMode(primary.PasswordFile);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);

            // The keepers report what they see.
            var report = group.Monitor.LastReport(pid)!;
            Assert.True(report.PgIsRunning);
            Assert.Equal("sync", report.ReplicationState);
            Assert.True(report.Lsn > 0);
            await Eventually.TrueAsync(() => Task.FromResult(group.Monitor.LastReport(sid)!.Timeline >= 1), "the streaming standby's timeline");
        });
    }
}

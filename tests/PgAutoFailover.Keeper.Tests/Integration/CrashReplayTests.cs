using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// A keeper that crashed after a transition's action but before recording the new state runs the
/// transition again on restart: every action must be idempotent and converge.
/// </summary>
public sealed class CrashReplayTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Transitions_replayed_after_a_crash_before_the_state_was_recorded_converge()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (primary, a, standby, b) = await group.PairAsync();
            await primary.ExecuteAsync("CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1)");

            // Standby: replay wait_standby → catchingup (InitStandby: a second base backup over a running standby).
            await standby.KillKeeperAsync();
            standby.RewriteState(s => s with { CurrentState = NodeState.WaitStandby, AssignedState = NodeState.CatchingUp });
            var seq = monitor.LastReport(b)!.Sequence;
            await monitor.AssignAsync(b, NodeState.CatchingUp);
            await standby.StartKeeperAsync();
            await monitor.WaitForStateAsync(b, NodeState.CatchingUp, afterSequence: seq);
            Assert.Equal(2, standby.Log.Lines.Count(l => l.Contains("pg_basebackup done")));
            await monitor.ReachAsync(b, NodeState.Secondary);

            // Primary: replay wait_primary → primary (EnableSyncRep) and init → single (InitPrimary on its own data).
            await primary.KillKeeperAsync();
            primary.RewriteState(s => s with { CurrentState = NodeState.Init, AssignedState = NodeState.Single });
            await monitor.AssignAsync(a, NodeState.Single);
            seq = monitor.LastReport(a)!.Sequence;
            await primary.StartKeeperAsync();
            await monitor.WaitForStateAsync(a, NodeState.Single, afterSequence: seq);
            Assert.Equal(1, await primary.ScalarAsync<int>("SELECT id FROM t"));
            await monitor.ReachAsync(a, NodeState.WaitPrimary);
            await monitor.ReachAsync(a, NodeState.Primary, $"FIRST 1 (pgautofailover_standby_{b})");
            await primary.KillKeeperAsync();
            primary.RewriteState(s => s with { CurrentState = NodeState.WaitPrimary });
            seq = monitor.LastReport(a)!.Sequence;
            await primary.StartKeeperAsync();
            await monitor.WaitForStateAsync(a, NodeState.Primary, afterSequence: seq);

            Assert.Equal("sync", await primary.ScalarAsync<string>(
                $"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pgautofailover_standby_{b}'"));
            await primary.ExecuteAsync("INSERT INTO t VALUES (2)");
            await Eventually.TrueAsync(async () => await standby.CountAsync("SELECT count(*) FROM t") == 2, "row 2 on the standby");
        });
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;
using Xunit.Abstractions;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>What the keeper tells the monitor beyond its state: the last error, the progress of a long step, and a damped pg-is-running flag.</summary>
public sealed class ReportingTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task A_failed_transition_and_a_running_base_backup_reach_the_monitor_and_clear_once_the_transition_succeeds()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var (primary, pid) = await group.SingleAsync("node1");
            var deadPort = Ports.Free();
            group.Monitor.AddPhantomNode(99, deadPort);
            group.Monitor.PrimaryNodeId = 99;
            var standby = group.Node("node2");
            standby.Settings["Keeper:MaximumBackupRate"] = "4M"; // a fresh cluster (~23 MB) then takes a few seconds to copy
            await standby.StartKeeperAsync();
            var sid = await standby.WaitRegisteredAsync();
            await group.Monitor.WaitForStateAsync(sid, NodeState.WaitStandby);

            // The primary named by the monitor cannot be reached: the error travels with the reports, as one line.
            await group.Monitor.AssignAsync(sid, NodeState.CatchingUp);
            var failed = await Eventually.ValueAsync(() => Task.FromResult(group.Monitor.Reports(sid).LastOrDefault(r => r.LastError is not null)),
                "a report carrying the base backup error");
            Assert.Contains($"cannot reach 127.0.0.1:{deadPort}", failed.LastError);
            Assert.DoesNotContain('\n', failed.LastError!);
            Assert.Equal(NodeState.WaitStandby, failed.CurrentState);

            // The real primary: pg_basebackup runs, and the reports go on while it does, saying how far it is.
            group.Monitor.PrimaryNodeId = pid;
            var done = await group.Monitor.WaitForStateAsync(sid, NodeState.CatchingUp);
            var reports = group.Monitor.Reports(sid);
            var during = reports.Where(r => r.Progress is not null).ToList();
            foreach (var r in during) output.WriteLine($"#{r.Sequence} {r.SentAt:HH:mm:ss.fff} {r.Progress}");
            Assert.True(during.Count >= 2, $"progress in {during.Count} reports: {string.Join(" / ", during.Select(r => r.Progress))}");
            Assert.All(during, r => Assert.StartsWith($"pg_basebackup from node {pid} (127.0.0.1:{primary.Port})", r.Progress));
            Assert.Contains(during, r => r.Progress!.Contains(" MB / "));
            Assert.True(during.Select(r => r.Progress).Distinct().Count() >= 2, "progress moves on");
            Assert.All(during, r => Assert.Equal(NodeState.WaitStandby, r.CurrentState));
            // One reporter, one sequence: strictly increasing in the order the monitor got them.
            Assert.True(reports.Zip(reports.Skip(1)).All(p => p.Second.Sequence > p.First.Sequence), "report sequences strictly increase");

            // Success clears both, in the very report that says catchingup.
            Assert.Null(done.LastError);
            Assert.Null(done.Progress);
            Assert.Null(standby.PersistedState!.LastError);
            Assert.True(await standby.IsInRecoveryAsync());
        });
    }

    [Fact]
    public async Task A_primary_whose_postgres_dies_reports_it_running_while_restarts_may_succeed_then_the_truth_after_three_failures()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var (node, id) = await group.SingleAsync();
            await group.Monitor.ReachAsync(id, NodeState.WaitPrimary);
            await group.Monitor.ReachAsync(id, NodeState.Primary);

            // PostgreSQL crashes and cannot start again (a broken postgresql.conf).
            var conf = Path.Combine(node.PgData, "postgresql.conf");
            var original = await File.ReadAllTextAsync(conf);
            await File.AppendAllTextAsync(conf, "\nshared_buffers = 'not a size'\n");
            await node.KillPostgresAsync();
            // At most one report may be in flight, observed before the kill.
            var firstAfter = group.Monitor.LastReport(id)!.Sequence + 2;

            var down = await Eventually.ValueAsync(
                () => Task.FromResult(group.Monitor.Reports(id).FirstOrDefault(r => r.Sequence >= firstAfter && !r.PgIsRunning)),
                "a report saying PostgreSQL is not running", TimeSpan.FromSeconds(60));
            var damped = group.Monitor.Reports(id).Where(r => r.Sequence >= firstAfter && r.Sequence < down.Sequence).ToList();
            output.WriteLine($"{damped.Count} reports said running while PostgreSQL was down; then #{down.Sequence}: not running");
            Assert.NotEmpty(damped);
            Assert.All(damped, r => Assert.True(r.PgIsRunning));
            Assert.All(damped.Append(down), r => Assert.Equal(NodeState.Primary, r.CurrentState));
            Assert.Contains(node.Log.Lines, l => l.Contains("still down after 3 failed restarts"));
            Assert.Contains("exited at start", down.LastError);

            // Fixed: the keeper's next restart succeeds and it reports running again.
            await File.WriteAllTextAsync(conf, original);
            var up = await Eventually.ValueAsync(
                () => Task.FromResult(group.Monitor.Reports(id).FirstOrDefault(r => r.Sequence > down.Sequence && r.PgIsRunning)),
                "a report saying PostgreSQL runs again", TimeSpan.FromSeconds(60));
            Assert.Equal(NodeState.Primary, up.CurrentState);
            await Eventually.TrueAsync(node.AcceptsQueriesAsync, "PostgreSQL back");
            Assert.False(await node.IsInRecoveryAsync());
            await Eventually.TrueAsync(() => Task.FromResult(group.Monitor.LastReport(id)!.LastError is null), "the error cleared once the check passes");
        });
    }
}

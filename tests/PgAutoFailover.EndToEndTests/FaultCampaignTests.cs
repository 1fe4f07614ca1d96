using System.Globalization;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using PgAutoFailover.Testing.Network;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 13 part 4: a seeded campaign of faults, one after the other, on one two-node group in a <see cref="NetworkLab"/>
/// under continuous writes through the multi-host URI. Each fault is drawn from the list below with a hold of 2-8 s,
/// then healed; the group must converge again (one primary, one synchronous standby, writes acknowledged). The checker
/// judges safety strictly over the whole history: no acknowledged write missing on the final primary or its standby
/// (those of the multi-host writer, and of a writer on each node's side of any partition, over its Unix socket),
/// and no instant where two nodes accept writes (asked every 100 ms over their Unix sockets, which no partition cuts).
/// Liveness (outage, convergence) is printed, bounded only generously. The seed is printed; rerun one with
/// <c>PGAF_FAULT_SEED=&lt;seed&gt; PGAF_FAULTS=&lt;n&gt; dotnet test tests/PgAutoFailover.EndToEndTests --filter FaultCampaignTests</c>.
/// </summary>
public sealed class FaultCampaignTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ConvergeLimit = TimeSpan.FromSeconds(180);

    // Each node's PGDATA and keeper state on a file system of its own, for "fill the standby's disk": room for the data
    // directory (about 40 MB) and the WAL the keeper's wal_keep_size (1 GB) holds back, which a long campaign reaches
    // (a 200-fault run filled 768 MB by its 127th fault), with room to spare. tmpfs takes memory only as it is written.
    private const int DiskMegabytes = 2048;

    private sealed record Roles(ProcessCluster Cluster, NetworkLab Lab, LocalRabbitNode Broker, DataNode Primary, DataNode Standby)
    {
        public int Index(DataNode node) => int.Parse(node.Name["node".Length..], CultureInfo.InvariantCulture);
    }

    private sealed record Fault(string Name, Func<Roles, Task> Apply, Func<Roles, Task> Heal);

    private static readonly Fault[] Faults =
    [
        new("isolate the primary", r => r.Lab.IsolateAsync(r.Index(r.Primary)), r => r.Lab.HealAsync(r.Index(r.Primary))),
        new("isolate the standby", r => r.Lab.IsolateAsync(r.Index(r.Standby)), r => r.Lab.HealAsync(r.Index(r.Standby))),
        new("cut the primary from the control plane", r => r.Lab.CutAsync(r.Index(r.Primary), [r.Lab.HostAddress]), r => r.Lab.HealAsync(r.Index(r.Primary))),
        new("cut the replication link", r => r.Lab.CutAsync(r.Index(r.Primary), [r.Lab.Address(r.Index(r.Standby))]), r => r.Lab.HealAsync(r.Index(r.Primary))),
        new("one-way cut: the primary hears nothing from its standby", r => r.Lab.CutAsync(r.Index(r.Primary), [r.Lab.Address(r.Index(r.Standby))], inboundOnly: true),
            r => r.Lab.HealAsync(r.Index(r.Primary))),
        new("crash the primary (keeper and PostgreSQL)", r => r.Primary.CrashAsync(), r => { r.Primary.StartKeeper(); return Task.CompletedTask; }),
        new("crash the standby (keeper and PostgreSQL)", r => r.Standby.CrashAsync(), r => { r.Standby.StartKeeper(); return Task.CompletedTask; }),
        new("kill the primary's keeper only", r => r.Primary.Keeper.KillAsync(), r => { r.Primary.StartKeeper(); return Task.CompletedTask; }),
        new("pause the monitor (SIGSTOP)", r => Signal(r.Cluster.Monitor, "-STOP"), r => Signal(r.Cluster.Monitor, "-CONT")),
        new("pause the health-checker (SIGSTOP)", r => Signal(r.Cluster.HealthChecker, "-STOP"), r => Signal(r.Cluster.HealthChecker, "-CONT")),
        new("fill the standby's disk", r => r.Standby.FillDiskAsync(), r => r.Standby.FreeDiskAsync()),
        new("pause the broker (SIGSTOP)", r => r.Broker.PauseAsync(), r => r.Broker.ResumeAsync()),
        new("crash the broker (SIGKILL, booted again at the heal)", r => r.Broker.KillAsync(), r => r.Broker.BootAsync()),
        new("pause the uri-service (SIGSTOP)", r => Signal(r.Cluster.UriService, "-STOP"), r => Signal(r.Cluster.UriService, "-CONT")),
        new("pause the primary's PostgreSQL alone (SIGSTOP)", r => r.Primary.PausePostgresAsync(), r => r.Primary.ResumePostgresAsync()),
        new("pause the standby's PostgreSQL alone (SIGSTOP)", r => r.Standby.PausePostgresAsync(), r => r.Standby.ResumePostgresAsync()),
        new("crash the monitor (SIGKILL, restarted at the heal)", r => r.Cluster.Monitor.KillAsync(), RestartMonitorAsync),
        new("crash the monitor's store (PostgreSQL SIGKILL, restarted at the heal)", r => r.Cluster.Store.KillAsync(), r => r.Cluster.Store.StartAsync()),
        new("crash the primary, then the monitor once it starts the failover", async r =>
        {
            // The restarted monitor must carry on from its stream.
            await CrashPrimaryUntilFailoverStartsAsync(r);
            await r.Cluster.Monitor.KillAsync();
        }, async r =>
        {
            await RestartMonitorAsync(r);
            r.Primary.StartKeeper();
        }),
        new("kill the monitor in the middle of a switchover", async r =>
        {
            // pgaf waits for the switchover the monitor will not finish: its answer (or timeout) is not awaited.
            _ = r.Cluster.PgafAsync("perform", "switchover", "--timeout", "20");
            await Task.Delay(TimeSpan.FromSeconds(0.8));
            await r.Cluster.Monitor.KillAsync();
        }, RestartMonitorAsync),
        new("pause the primary's keeper alone (SIGSTOP)", r => Signal(r.Primary.Keeper, "-STOP"), r => Signal(r.Primary.Keeper, "-CONT")),
        new("pause the standby's keeper alone (SIGSTOP)", r => Signal(r.Standby.Keeper, "-STOP"), r => Signal(r.Standby.Keeper, "-CONT")),
        new("pause the primary (keeper and PostgreSQL, SIGSTOP)", async r =>
        {
            await Signal(r.Primary.Keeper, "-STOP");
            await r.Primary.PausePostgresAsync();
        }, async r =>
        {
            await r.Primary.ResumePostgresAsync();
            await Signal(r.Primary.Keeper, "-CONT");
        }),
        new("kill the primary's PostgreSQL alone (SIGKILL)", r => r.Primary.KillPostgresAsync(), _ => Task.CompletedTask),
        new("kill the standby's PostgreSQL alone (SIGKILL)", r => r.Standby.KillPostgresAsync(), _ => Task.CompletedTask),
        new("crash the health-checker (SIGKILL, restarted at the heal)", r => r.Cluster.HealthChecker.KillAsync(), r => r.Cluster.RestartHealthCheckerAsync()),
        new("crash the uri-service (SIGKILL, restarted at the heal)", r => r.Cluster.UriService.KillAsync(), r => r.Cluster.RestartUriServiceAsync()),
        new("crash the primary, then the monitor's store once the failover starts", async r =>
        {
            await CrashPrimaryUntilFailoverStartsAsync(r);
            await r.Cluster.Store.KillAsync();
        }, async r =>
        {
            await r.Cluster.Store.StartAsync();
            r.Primary.StartKeeper();
        }),
        new("crash the primary, then the broker once the failover starts", async r =>
        {
            await CrashPrimaryUntilFailoverStartsAsync(r);
            await r.Broker.KillAsync();
        }, async r =>
        {
            await r.Broker.BootAsync();
            r.Primary.StartKeeper();
        }),
        new("crash the primary, then again in the middle of its rejoin", async r =>
        {
            await CrashPrimaryUntilRejoinStartsAsync(r);
            await r.Primary.CrashAsync();
        }, r => { r.Primary.StartKeeper(); return Task.CompletedTask; }),
        new("crash the primary, then the new primary in the middle of the old one's rejoin", async r =>
        {
            await CrashPrimaryUntilRejoinStartsAsync(r);
            await r.Standby.CrashAsync();
        }, r => { r.Standby.StartKeeper(); return Task.CompletedTask; }),
        new("crash the primary, then the monitor in the middle of its rejoin", async r =>
        {
            await CrashPrimaryUntilRejoinStartsAsync(r);
            await r.Cluster.Monitor.KillAsync();
        }, RestartMonitorAsync),
    ];

    private static async Task CrashPrimaryUntilFailoverStartsAsync(Roles r)
    {
        await r.Primary.CrashAsync();
        // At the first sight of the failover (polled, so sometimes a step or two later).
        await r.Cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == r.Standby.Name && n.GoalState is not NodeState.Secondary),
            "the monitor to start the failover", ConvergeLimit);
    }

    /// <summary>
    /// Crashes the primary, waits until its standby took over, starts the old primary's keeper again and returns once
    /// its rejoin is under way (assigned a goal on the way back to standby, not there yet).
    /// </summary>
    private static async Task CrashPrimaryUntilRejoinStartsAsync(Roles r)
    {
        await r.Primary.CrashAsync();
        await r.Cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == r.Standby.Name && n.ReportedState is (NodeState.WaitPrimary or NodeState.Primary)),
            "the standby to take over", ConvergeLimit);
        r.Primary.StartKeeper();
        // Its first report after the restart still says primary; any other state says the keeper is on its way back (a
        // small data directory rewinds in well under a second, so the poll sometimes sees it back already).
        await r.Cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == r.Primary.Name && n.ReportedState is not NodeState.Primary),
            "the old primary to start its rejoin", ConvergeLimit);
    }

    private static async Task RestartMonitorAsync(Roles r)
    {
        r.Cluster.StartMonitor();
        await r.Cluster.WaitMonitorHealthyAsync();
    }

    [Fact]
    public async Task A_seeded_campaign_of_faults_loses_no_acknowledged_write_and_never_has_two_writers()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PGAF_FAULT_SEED"), out var s) ? s : Random.Shared.Next(1, 1_000_000);
        var count = int.TryParse(Environment.GetEnvironmentVariable("PGAF_FAULTS"), out var n) && n > 0 ? n : 10;
        // PGAF_FAULT_KINDS="monitor,store" draws only faults whose name holds one of the words.
        var kinds = Environment.GetEnvironmentVariable("PGAF_FAULT_KINDS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        var faults = kinds.Length == 0 ? Faults : Faults.Where(f => kinds.Any(k => f.Name.Contains(k, StringComparison.OrdinalIgnoreCase))).ToArray();
        Assert.True(faults.Length > 0, $"no fault matches PGAF_FAULT_KINDS={string.Join(',', kinds)}");
        output.WriteLine($"fault campaign: seed {seed}, {count} faults of {faults.Length} kinds (rerun: PGAF_FAULT_SEED={seed} PGAF_FAULTS={count}" +
                         (kinds.Length == 0 ? ")" : $" PGAF_FAULT_KINDS={string.Join(',', kinds)})"));
        var random = new Random(seed);

        await using var lab = await NetworkLab.CreateAsync(2);
        // A broker of its own, which the campaign may pause and kill without touching the other tests' broker.
        await using var rabbit = await LocalRabbitNode.StartAsync(alsoListenOn: lab.HostAddress);
        await using var cluster = await ProcessCluster.StartAsync(rabbit.AmqpUri);
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodeAsync("node1", lab, 1, DiskMegabytes);
            await cluster.AddNodeAsync("node2", lab, 2, DiskMegabytes);
            var roles = await RolesAsync(cluster, lab, rabbit);
            await using var poller = WriterPoller.Start(cluster);
            await using var load = await PartitionLoad.StartAsync(cluster, roles.Primary);
            await using var onNode1 = await PartitionLoad.StartPinnedAsync(roles.Primary, cluster.Node("node1"));
            await using var onNode2 = await PartitionLoad.StartPinnedAsync(roles.Primary, cluster.Node("node2"));

            var table = new List<string> { "| # | fault | hold | longest write gap | converged after heal | primary after |", "|---|---|---|---|---|---|" };
            for (var i = 1; i <= count; i++)
            {
                var fault = faults[random.Next(faults.Length)];
                var hold = TimeSpan.FromSeconds(2 + random.Next(7));
                var started = WriteLoad.Clock.Elapsed;
                output.WriteLine($"[{started.TotalSeconds:F1} s, {DateTime.UtcNow:HH:mm:ss.fff} UTC] fault {i}: {fault.Name} on {roles.Primary.Name} (primary) / {roles.Standby.Name}, for {hold.TotalSeconds:F0} s");
                await fault.Apply(roles);
                await Task.Delay(hold);
                await fault.Heal(roles);
                var healed = WriteLoad.Clock.Elapsed;
                roles = await RolesAsync(cluster, lab, rabbit);
                await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, $"writes after fault {i} ({fault.Name})", ConvergeLimit);
                var converged = WriteLoad.Clock.Elapsed - healed;
                var gap = PartitionLoad.MaxGap(load, started, WriteLoad.Clock.Elapsed);
                table.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {i} | {fault.Name} | {hold.TotalSeconds:F0} s | {gap.TotalSeconds:F3} s | {converged.TotalSeconds:F3} s | {roles.Primary.Name} |"));
                output.WriteLine(table[^1]);
            }

            output.WriteLine($"fault campaign, seed {seed}:\n{string.Join('\n', table)}");
            output.WriteLine($"two-writer rounds: {poller.Violations.Count} of {poller.Rounds}");
            await NoLoss.AssertAsync(load, poller, output, roles.Primary, roles.Standby);
            foreach (var (pinned, name) in new[] { (onNode1, "node1"), (onNode2, "node2") })
            {
                await pinned.StopAsync();
                output.WriteLine($"writer on {name}'s side: {pinned.Summary}");
                Assert.Empty(await pinned.MissingOnAsync(roles.Primary));
            }
        });
    }

    /// <summary>
    /// Waits until the group converged (one primary, a synchronous standby streaming from it, both as PostgreSQL itself
    /// says) and says who is who. The monitor's state alone can still show the roles from before a fault it has not
    /// acted on yet, so the primary it names must also be out of recovery with a synchronous standby streaming.
    /// </summary>
    private static async Task<Roles> RolesAsync(ProcessCluster cluster, NetworkLab lab, LocalRabbitNode rabbit)
    {
        FormationState? last = null;
        try
        {
            var primary = await Eventually.ValueAsync(async () =>
            {
                last = await cluster.TryStateAsync();
                if (last is null || !ProcessCluster.Converged(last, null, cluster.Nodes.Count)) return null;
                var named = cluster.Node(ProcessCluster.ConvergedPrimary(last)!.Node.NodeName);
                try
                {
                    return await named.ScalarAsync<bool>("""
                        SELECT NOT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_replication
                                                                   WHERE sync_state IN ('sync', 'quorum') AND state = 'streaming')
                        """) ? named : null;
                }
                catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or IOException)
                {
                    return null;
                }
            }, "the group to converge with a synchronous standby streaming", ConvergeLimit, TimeSpan.FromMilliseconds(200));
            return new Roles(cluster, lab, rabbit, primary, cluster.Nodes.Single(n => n != primary));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last state:\n{ProcessCluster.Describe(last)}", e);
        }
    }

    private static Task Signal(ServiceProcess process, string signal) =>
        process.Pid is { } pid
            ? ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("kill", [signal, pid.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10)), $"kill {signal} {process.Name}")
            : Task.CompletedTask;
}

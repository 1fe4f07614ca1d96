using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.Bench;

/// <summary>
/// Issue 7 part 5: failover time with real processes. One local cluster as processes (store, monitor,
/// health-checker, uri-service, two PostgreSQL nodes with their keepers; default product timings), a write
/// load through the uri-service's multi-host uri (one INSERT every 15 ms, each acknowledgement time
/// recorded), and a poller checking every 100 ms that no two nodes accept writes. Each run does
/// (a) SIGKILL of the primary's keeper and postmaster, then restart of its keeper (rejoin), and
/// (b) a planned switchover. Prints min / median / max of: the write-unavailability window (last write
/// acknowledged by the old primary to the first acknowledged by the new one), the time until the monitor
/// shows the new primary, acknowledged writes lost, and the rejoin time (crash: keeper restart until the old
/// node is a synchronous standby again; switchover: request until both converged).
/// Usage: failover [--runs 5]. Builds: the services in the bench's own configuration (Release with
/// `dotnet run -c Release --project bench/PgAutoFailover.Bench -- failover`). Broker: RABBITMQ_URL (a fresh
/// virtual host), else a private node.
/// </summary>
public static class FailoverBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var runs = int.Parse(Option(args, "--runs", "5"));
        Console.WriteLine($"failover benchmark: {runs} runs of (a) crash and (b) switchover, {ServiceProcess.Configuration} build, {Environment.ProcessorCount} cores, " +
                          $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at start; default timings");
        var broker = new RabbitMqFixture();
        await broker.InitializeAsync();
        var crashes = new List<FailoverMeasurement>();
        var switchovers = new List<FailoverMeasurement>();
        try
        {
            await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
            try
            {
                await cluster.AddNodesAndConvergeAsync("node1", "node2");
                await FailoverScenarios.WaitSynchronousAsync(cluster.Node("node1"), 1);
                for (var run = 1; run <= runs; run++)
                {
                    var crash = await FailoverScenarios.CrashPrimaryAsync(cluster);
                    crashes.Add(crash);
                    Console.WriteLine($"run {run}: {crash}");
                    var switchover = await FailoverScenarios.SwitchoverAsync(cluster);
                    switchovers.Add(switchover);
                    Console.WriteLine($"run {run}: {switchover}");
                }
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"failover benchmark failed: {e.Message}\nstate:\n{ProcessCluster.Describe(await cluster.TryStateAsync())}\n{cluster.Logs(40)}");
                cluster.KeepOnDispose = true;
                Console.Error.WriteLine($"logs kept in {cluster.BaseDirectory}");
                return 1;
            }
        }
        finally
        {
            await broker.DisposeAsync();
        }

        Console.WriteLine();
        Console.WriteLine($"{"",-12} {"measure",-34} {"min",9} {"median",9} {"max",9}");
        Print("crash", crashes);
        Print("switchover", switchovers);
        var violations = crashes.Concat(switchovers).Sum(m => m.TwoWriters.Count);
        Console.WriteLine($"two nodes accepting writes at once: {violations} poller rounds");
        return crashes.Concat(switchovers).Any(m => m.LostOnNewPrimary > 0) || violations > 0 ? 1 : 0;
    }

    private static void Print(string kind, List<FailoverMeasurement> ms)
    {
        Row(kind, "write-unavailability window (s)", ms.Select(m => m.WriteWindow?.TotalSeconds));
        Row(kind, "new primary shown after (s)", ms.Select(m => m.NewPrimaryShown?.TotalSeconds));
        Row(kind, "acknowledged writes lost", ms.Select(m => (double?)m.LostOnNewPrimary));
        Row(kind, "rejoin time (s)", ms.Select(m => m.Rejoin?.TotalSeconds));
    }

    private static void Row(string kind, string what, IEnumerable<double?> values)
    {
        var v = values.Where(x => x is not null).Select(x => x!.Value).Order().ToList();
        if (v.Count == 0) { Console.WriteLine($"{kind,-12} {what,-34} {"n/a",9}"); return; }
        var median = v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
        Console.WriteLine($"{kind,-12} {what,-34} {v[0],9:F3} {median,9:F3} {v[^1],9:F3}");
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}

using System.Diagnostics;
using System.Globalization;
using MassTransit;
using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Bench;

/// <summary>
/// Monitor load: one real monitor process (Release build) on a real broker and a real PostgreSQL store;
/// this process simulates N keepers (groups of a primary and a standby, one formation each) and a
/// health-checker on the bus, every node reporting and being probed once per period. After a warm-up
/// (JIT, connection pools, every loop started) it prints reports and probes per second, the monitor's
/// decisions per second (reports, probes and timer evaluations, from its own metrics) and their mean and
/// p99 duration (arrival at the group to stored and published), how long a report stays inside the monitor (MassTransit's receive duration: delivery to reply
/// sent; p50/p99 as histogram bucket bounds), the report round trip (keeper → broker → decision stored → reply; an upper bound of the
/// decision latency) at p50/p99, and the monitor process's CPU and memory.
/// Usage: monitor [--nodes 10,100,1000] [--seconds 20] [--warmup 10] [--period-ms 1000]
/// Needs `dotnet build -c Release` first and RabbitMQ (RABBITMQ_URL, else a private node).
/// </summary>
public static class MonitorBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var nodeCounts = Option(args, "--nodes", "10,100,1000").Split(',').Select(int.Parse).ToArray();
        var seconds = int.Parse(Option(args, "--seconds", "20"));
        var warmup = TimeSpan.FromSeconds(int.Parse(Option(args, "--warmup", "10")));
        var period = TimeSpan.FromMilliseconds(int.Parse(Option(args, "--period-ms", "1000")));
        var monitorBinary = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory,
            "../../../../../services/monitor/PgAutoFailover.Monitor/bin/Release/net10.0/PgAutoFailover.Monitor"));
        if (!File.Exists(monitorBinary))
        {
            Console.Error.WriteLine($"monitor benchmark: {monitorBinary} not found: run `dotnet build -c Release` first");
            return 2;
        }

        Console.WriteLine($"monitor benchmark: period {period.TotalMilliseconds} ms, {warmup.TotalSeconds} s warm-up then {seconds} s measured per run, " +
            $"{Environment.ProcessorCount} cores, store fsync=off");
        Console.WriteLine($"{"nodes",6} {"groups",6} {"reports/s",10} {"probes/s",9} {"decisions/s",11} {"mean ms",7} {"p99 ms",7} {"in p50",8} {"in p99",8} {"p50 ms",7} {"p99 ms",7} {"max ms",7} " +
            $"{"errors",6} {"monitor CPU",11} {"RSS MB",7}");
        await using var store = await PgCluster.CreateAsync("max_connections=200");
        var broker = new RabbitMqFixture();
        await broker.InitializeAsync();
        try
        {
            foreach (var nodes in nodeCounts)
            {
                var amqp = await broker.NewVirtualHostAsync();
                // The fixture turns pooling off (its tests kill servers); a deployed monitor pools, and must:
                // without pooling every decision opens a connection and 1,000 nodes reach only ~150 reports/s.
                var database = new NpgsqlConnectionStringBuilder(await store.CreateDatabaseAsync($"bench_{nodes}_{Guid.NewGuid():N}"[..20]))
                    { Pooling = true }.ConnectionString;
                await RunOnceAsync(monitorBinary, amqp, database, nodes, seconds, warmup, period);
            }
        }
        finally
        {
            await broker.DisposeAsync();
        }
        return 0;
    }

    private static async Task RunOnceAsync(string binary, Uri amqp, string storeConnection, int nodes, int seconds, TimeSpan warmup, TimeSpan period)
    {
        var port = Ports.Free();
        var log = Path.Combine(Path.GetTempPath(), $"pgaf-bench-monitor-{nodes}.log");
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["RABBITMQ_URL"] = amqp.ToString();
        info.Environment["ConnectionStrings__MonitorStore"] = storeConnection;
        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        using var monitor = Process.Start(info)!;
        await using var logFile = File.CreateText(log);
        monitor.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (logFile) logFile.WriteLine(e.Data); };
        monitor.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (logFile) logFile.WriteLine(e.Data); };
        monitor.BeginOutputReadLine();
        monitor.BeginErrorReadLine();

        // One connection for a thousand simulated keepers: its reply queue must take replies as fast as they come.
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(amqp);
            rabbit.PrefetchCount = 512;
        });
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        try
        {
            await WaitHealthyAsync(port);
            var bootstrap = Stopwatch.StartNew();
            var keepers = await BootstrapAsync(bus, nodes / 2);
            Console.Error.WriteLine($"  {nodes} nodes: registered and at primary + secondary after {bootstrap.Elapsed.TotalSeconds:0.0} s");
            using var stop = new CancellationTokenSource(warmup + TimeSpan.FromSeconds(seconds));
            var window = new Window();
            var loops = Task.WhenAll(keepers.Select(k => KeeperLoopAsync(bus, k, period, window, stop.Token)));
            await Task.Delay(warmup);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var before = await MonitorFigures.ScrapeAsync(http);
            var cpuBefore = CpuTime(monitor);
            var wall = Stopwatch.StartNew();
            window.Open();
            await loops;
            window.Close();
            var elapsed = wall.Elapsed.TotalSeconds;
            var cpu = (CpuTime(monitor) - cpuBefore).TotalSeconds / elapsed;
            var after = await MonitorFigures.ScrapeAsync(http);
            var decisions = after.Decisions - before.Decisions;
            var meanMs = decisions == 0 ? 0 : (after.DecisionMs - before.DecisionMs) / decisions;
            monitor.Refresh();
            var latencies = window.Latencies;
            latencies.Sort();
            Console.WriteLine($"{nodes,6} {nodes / 2,6} {latencies.Count / elapsed,10:0} {window.Probes / elapsed,9:0} {decisions / elapsed,11:0} {meanMs,7:0.0} " +
                $"{"≤" + MonitorFigures.Quantile(before.DecisionBuckets, after.DecisionBuckets, 0.99),7} " +
                $"{"≤" + MonitorFigures.Quantile(before.ReportBuckets, after.ReportBuckets, 0.50),8} {"≤" + MonitorFigures.Quantile(before.ReportBuckets, after.ReportBuckets, 0.99),8} " +
                $"{Percentile(latencies, 0.50),7:0.0} {Percentile(latencies, 0.99),7:0.0} {(latencies.Count > 0 ? latencies[^1] : 0),7:0.0} {window.Errors,6} " +
                $"{cpu,8:0.00} c  {monitor.WorkingSet64 / 1024 / 1024,7}");
        }
        finally
        {
            await bus.StopAsync();
            if (!monitor.HasExited) { monitor.Kill(); await monitor.WaitForExitAsync(); }
        }
    }

    private sealed class Keeper(NodeAddress node)
    {
        public NodeAddress Node { get; } = node;
        public NodeState State { get; set; } = Init;
        public long Sequence { get; set; }
    }

    /// <summary>Registers the nodes of each group and plays their keepers until primary + secondary.</summary>
    private static async Task<List<Keeper>> BootstrapAsync(IBus bus, int groups)
    {
        var created = bus.CreateRequestClient<CreateFormation>(RequestTimeout.After(s: 60));
        var register = bus.CreateRequestClient<RegisterNode>(RequestTimeout.After(s: 60));
        var keepers = new List<Keeper>();
        var basePort = 30000;
        await Parallel.ForEachAsync(Enumerable.Range(0, groups), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (g, ct) =>
        {
            var formation = $"bench{g:0000}";
            await created.GetResponse<OperatorCommandSucceeded, OperatorCommandRefused>(new CreateFormation(formation, "postgres", 0), ct);
            var pair = new List<Keeper>();
            foreach (var i in new[] { 0, 1 })
            {
                var answer = await register.GetResponse<NodeRegistered>(new RegisterNode(formation, 0, $"n{i}", "127.0.0.1",
                    basePort + g * 2 + i, "postgres", null, 50, true, null, Init), ct);
                pair.Add(new Keeper(answer.Message.Node));
            }
            for (var round = 0; round < 20 && !(pair[0].State == Primary && pair[1].State == Secondary); round++)
            {
                foreach (var keeper in pair) keeper.State = (await ReportAsync(bus, keeper)).GoalState;
            }
            lock (keepers) keepers.AddRange(pair);
        });
        return keepers;
    }

    /// <summary>
    /// One simulated keeper, as the real one paces itself: a report every period, or every third of its lease while it
    /// holds one (a primary renews its lease at L/3); the health-checker's probe of the node once a period.
    /// </summary>
    private static async Task KeeperLoopAsync(IBus bus, Keeper keeper, TimeSpan period, Window window, CancellationToken stop)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * period.TotalMilliseconds), CancellationToken.None);
        var nextProbe = Stopwatch.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            var wait = period;
            try
            {
                var goal = await ReportAsync(bus, keeper);
                window.Report(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                keeper.State = goal.GoalState;
                if (goal.Lease is { } lease && lease.Duration / 3 < wait) wait = lease.Duration / 3;
                if (Stopwatch.GetTimestamp() >= nextProbe)
                {
                    nextProbe = Stopwatch.GetTimestamp() + (long)(period.TotalSeconds * Stopwatch.Frequency);
                    await bus.Publish(new NodeProbed(keeper.Node, true, null, TimeSpan.FromMilliseconds(1), "bench", DateTimeOffset.UtcNow, keeper.State != Primary));
                    window.Probe();
                }
            }
            catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
            {
                window.Error();
            }
            var left = wait - Stopwatch.GetElapsedTime(started);
            try { if (left > TimeSpan.Zero) await Task.Delay(left, stop); } catch (OperationCanceledException) { break; }
        }
    }

    private static async Task<NodeGoal> ReportAsync(IBus bus, Keeper keeper)
    {
        var client = bus.CreateRequestClient<ReportNodeState>(RequestTimeout.After(s: 30));
        var writable = keeper.State is Primary or WaitPrimary or NodeState.Single;
        var response = await client.GetResponse<NodeGoal>(new ReportNodeState(keeper.Node.Formation, 0, keeper.Node.NodeId,
            keeper.State, true, 1, 0x3000000, writable ? "quorum" : "", null, ++keeper.Sequence, DateTimeOffset.UtcNow));
        return response.Message;
    }

    /// <summary>What the keepers saw while the measurement window was open (the warm-up is not counted).</summary>
    private sealed class Window
    {
        private volatile bool _open;
        private int _probes;
        private int _errors;

        public List<double> Latencies { get; } = [];
        public int Probes => _probes;
        public int Errors => _errors;
        public void Open() => _open = true;
        public void Close() => _open = false;

        public void Report(double milliseconds)
        {
            if (_open) lock (Latencies) Latencies.Add(milliseconds);
        }

        public void Probe() { if (_open) Interlocked.Increment(ref _probes); }
        public void Error() { if (_open) Interlocked.Increment(ref _errors); }
    }

    /// <summary>
    /// From the monitor's /metrics: its decision count and total duration (pgaf.monitor.decision.duration), and
    /// the cumulative buckets of MassTransit's receive duration on report-node-state (delivery to the monitor
    /// until the reply is sent: the report's whole stay inside the monitor).
    /// </summary>
    private sealed record MonitorFigures(long Decisions, double DecisionMs, SortedDictionary<double, long> ReportBuckets,
        SortedDictionary<double, long> DecisionBuckets)
    {
        public static async Task<MonitorFigures> ScrapeAsync(HttpClient http)
        {
            var lines = (await http.GetStringAsync("/metrics")).Split('\n');
            static double Number(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            double Sum(string name) => lines.Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal)).Sum(Number);
            SortedDictionary<double, long> Buckets(string name, string? filter)
            {
                var buckets = new SortedDictionary<double, long>();
                foreach (var line in lines.Where(l => l.StartsWith(name + "_bucket{", StringComparison.Ordinal)
                                                      && (filter is null || l.Contains(filter, StringComparison.Ordinal))))
                {
                    var le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..];
                    le = le[..le.IndexOf('"')];
                    var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                    buckets[bound] = buckets.GetValueOrDefault(bound) + (long)Number(line);
                }
                return buckets;
            }
            return new MonitorFigures((long)Sum("pgaf_monitor_decision_duration_milliseconds_count"),
                Sum("pgaf_monitor_decision_duration_milliseconds_sum"),
                Buckets("messaging_masstransit_receive_duration_milliseconds", "destination=\"report-node-state\""),
                Buckets("pgaf_monitor_decision_duration_milliseconds", null));
        }

        /// <summary>Upper bound of the bucket holding the p-quantile of the reports received between two scrapes.</summary>
        public static double Quantile(SortedDictionary<double, long> before, SortedDictionary<double, long> after, double p)
        {
            var total = after.LastOrDefault().Value - before.LastOrDefault().Value;
            foreach (var (le, count) in after)
            {
                if (count - before.GetValueOrDefault(le) >= p * total) return le;
            }
            return double.PositiveInfinity;
        }
    }

    private static async Task WaitHealthyAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/health")).IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException("the monitor did not become healthy");
    }

    private static TimeSpan CpuTime(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static string Option(string[] args, string name, string fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}

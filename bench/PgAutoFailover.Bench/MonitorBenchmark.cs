using System.Diagnostics;
using MassTransit;
using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.Testing;
using RabbitMQ.Client;
using static PgAutoFailover.Bench.BenchArguments;

namespace PgAutoFailover.Bench;

/// <summary>
/// Monitor load: one or more real monitor processes (Release build) sharing a real broker and a real PostgreSQL store; this
/// process simulates N keepers (groups of a primary and a standby, one formation each) and a health-checker on the bus
/// (<see cref="SimulatedKeepers"/>), every node reporting and being probed once per period. After a warm-up (JIT,
/// connection pools, every loop started) it prints, over the measured window: reports and probes per second, the
/// monitors' decisions per second (reports, probes and timer evaluations, from their own metrics) with their mean and p99
/// duration (arrival at the group to stored and published), stream version conflicts per second (one instance losing an
/// append to another), how long a report stays inside a monitor (MassTransit's receive duration, p50/p99 as histogram
/// bucket bounds), the report round trip (keeper → broker → decision stored → reply) at p50/p99/max, the store's event
/// appends per second and its growth extrapolated to a day, the deepest backlog seen on the monitors' queues, and each
/// monitor's CPU (mean and busiest) and memory.
/// Usage: monitor [--nodes 10,100,1000] [--monitors 1] [--broker-nodes 1|3] [--seconds 20] [--warmup 10] [--period-ms 1000]
/// Needs `dotnet build -c Release` first; RabbitMQ (RABBITMQ_URL, else a private node), or with --broker-nodes 3 a local
/// three-node cluster (scripts/broker/local-cluster.sh, as root).
/// </summary>
public static class MonitorBenchmark
{
    private static readonly string[] MonitorQueues = [.. Enumerable.Range(0, MonitorPartitions.Count).Select(MonitorPartitions.Queue)];

    private sealed record Settings(int Nodes, int Monitors, int Seconds, TimeSpan Warmup, TimeSpan Period);

    public static async Task<int> RunAsync(string[] args)
    {
        var nodeCounts = Option(args, "--nodes", "10,100,1000").Split(',').Select(int.Parse).ToArray();
        var monitors = int.Parse(Option(args, "--monitors", "1"));
        var brokerNodes = int.Parse(Option(args, "--broker-nodes", "1"));
        var seconds = int.Parse(Option(args, "--seconds", "20"));
        var warmup = TimeSpan.FromSeconds(int.Parse(Option(args, "--warmup", "10")));
        var period = TimeSpan.FromMilliseconds(int.Parse(Option(args, "--period-ms", "1000")));
        if (monitors is < 1 or > 9 || brokerNodes is not (1 or 3))
        {
            Console.Error.WriteLine("monitor benchmark: --monitors takes 1 to 9, --broker-nodes 1 or 3");
            return 2;
        }
        var monitorBinary = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory,
            "../../../../../services/monitor/PgAutoFailover.Monitor/bin/Release/net10.0/PgAutoFailover.Monitor"));
        if (!File.Exists(monitorBinary))
        {
            Console.Error.WriteLine($"monitor benchmark: {monitorBinary} not found: run `dotnet build -c Release` first");
            return 2;
        }

        Console.WriteLine($"monitor benchmark: {monitors} monitor(s), {brokerNodes} broker node(s), period {period.TotalMilliseconds} ms, " +
            $"{warmup.TotalSeconds} s warm-up then {seconds} s measured per run, {Environment.ProcessorCount} cores, store fsync=off, load {LoadAverage()}");
        Console.WriteLine($"{"nodes",6} {"groups",6} {"reports/s",10} {"probes/s",9} {"decisions/s",11} {"mean ms",7} {"p99 ms",7} {"confl/s",7} " +
            $"{"in p50",8} {"in p99",8} {"p50 ms",7} {"p99 ms",7} {"max ms",7} {"errors",6} {"events/s",8} {"MB/day",7} {"backlog",7} " +
            $"{"CPU/mon",7} {"CPU max",7} {"RSS MB",7}");
        await using var store = await PgCluster.CreateAsync("max_connections=300");
        RabbitMqFixture? broker = null;
        LocalRabbitCluster? cluster = null;
        try
        {
            if (brokerNodes == 3) cluster = await LocalRabbitCluster.StartAsync();
            else await (broker = new RabbitMqFixture()).InitializeAsync();
            foreach (var nodes in nodeCounts)
            {
                // Each run on a virtual host of its own: on the cluster, the default one, emptied by a new cluster per run
                // would cost minutes; the queues are few and their backlog drains between runs.
                var (amqp, first) = broker is not null && await broker.NewVirtualHostAsync() is { } vhost
                    ? (vhost.ToString(), vhost)
                    : (cluster!.Url, cluster.FirstNode);
                // The fixture turns pooling off (its tests kill servers); a deployed monitor pools, and must:
                // without pooling every decision opens a connection and 1,000 nodes reach only ~150 reports/s.
                var database = new NpgsqlConnectionStringBuilder(await store.CreateDatabaseAsync($"bench_{nodes}_{Guid.NewGuid():N}"[..20]))
                    { Pooling = true }.ConnectionString;
                await RunOnceAsync(monitorBinary, amqp, first, database, store, new Settings(nodes, monitors, seconds, warmup, period));
            }
        }
        finally
        {
            if (broker is not null) await broker.DisposeAsync();
            if (cluster is not null) await cluster.DisposeAsync();
        }
        return 0;
    }

    /// <summary>One run: the monitors connect with <paramref name="amqp"/> (a host list on a cluster), this process to <paramref name="first"/>.</summary>
    private static async Task RunOnceAsync(string binary, string amqp, Uri first, string storeConnection, PgCluster store, Settings run)
    {
        var database = new NpgsqlConnectionStringBuilder(storeConnection).Database!;
        var monitors = new List<(Process Process, int Port)>();
        for (var i = 0; i < run.Monitors; i++) monitors.Add(StartMonitor(binary, amqp, storeConnection, run.Nodes, i));
        // The bench's own connection goes to the first node alone: MassTransit's Host() takes one host.
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(first);
            rabbit.UseMonitorPartitionRouting(); // as keepers and health-checkers publish
            rabbit.PrefetchCount = 512; // one connection for thousands of simulated keepers: replies must come in as fast
        });
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        try
        {
            foreach (var (_, port) in monitors) await WaitHealthyAsync(port);
            var bootstrap = Stopwatch.StartNew();
            var keepers = await SimulatedKeepers.BootstrapAsync(bus, run.Nodes / 2);
            Console.Error.WriteLine($"  {run.Nodes} nodes: registered and at primary + secondary after {bootstrap.Elapsed.TotalSeconds:0.0} s");
            using var stop = new CancellationTokenSource(run.Warmup + TimeSpan.FromSeconds(run.Seconds));
            var window = new SimulatedKeepers.Window();
            var loops = Task.WhenAll(keepers.Select(k => SimulatedKeepers.RunAsync(bus, k, run.Period, window, stop.Token)));
            await Task.Delay(run.Warmup);

            var https = monitors.Select(m => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{m.Port}") }).ToList();
            var before = MonitorFigures.Sum(await Task.WhenAll(https.Select(MonitorFigures.ScrapeAsync)));
            var cpuBefore = monitors.Select(m => CpuTime(m.Process)).ToList();
            var eventsBefore = await EventCountAsync(store, database);
            var sizeBefore = await StoreFigureAsync(store, $"SELECT pg_database_size('{database}')");
            var wall = Stopwatch.StartNew();
            window.Open();
            var backlog = SampleBacklogAsync(first, stop.Token);
            await loops;
            window.Close();
            var elapsed = wall.Elapsed.TotalSeconds;
            var cpu = monitors.Select((m, i) => (CpuTime(m.Process) - cpuBefore[i]).TotalSeconds / elapsed).ToList();
            var after = MonitorFigures.Sum(await Task.WhenAll(https.Select(MonitorFigures.ScrapeAsync)));
            var events = (await EventCountAsync(store, database) - eventsBefore) / elapsed;
            var growthPerDay = (await StoreFigureAsync(store, $"SELECT pg_database_size('{database}')") - sizeBefore) / elapsed * 86400 / 1024 / 1024;
            var deepest = await backlog;
            https.ForEach(h => h.Dispose());

            var decisions = after.Decisions - before.Decisions;
            var meanMs = decisions == 0 ? 0 : (after.DecisionMs - before.DecisionMs) / decisions;
            var latencies = window.Latencies;
            latencies.Sort();
            monitors.ForEach(m => m.Process.Refresh());
            Console.WriteLine($"{run.Nodes,6} {run.Nodes / 2,6} {latencies.Count / elapsed,10:0} {window.Probes / elapsed,9:0} {decisions / elapsed,11:0} {meanMs,7:0.0} " +
                $"{"≤" + MonitorFigures.Quantile(before.DecisionBuckets, after.DecisionBuckets, 0.99),7} {(after.Conflicts - before.Conflicts) / elapsed,7:0.0} " +
                $"{"≤" + MonitorFigures.Quantile(before.ReportBuckets, after.ReportBuckets, 0.50),8} {"≤" + MonitorFigures.Quantile(before.ReportBuckets, after.ReportBuckets, 0.99),8} " +
                $"{Percentile(latencies, 0.50),7:0.0} {Percentile(latencies, 0.99),7:0.0} {(latencies.Count > 0 ? latencies[^1] : 0),7:0.0} {window.Errors,6} " +
                $"{events,8:0.0} {growthPerDay,7:0} {deepest,7} {cpu.Average(),5:0.00} c {cpu.Max(),5:0.00} c {monitors.Max(m => m.Process.WorkingSet64) / 1024 / 1024,7}");
        }
        finally
        {
            await bus.StopAsync();
            foreach (var (process, _) in monitors)
            {
                if (!process.HasExited) { process.Kill(); await process.WaitForExitAsync(); }
                process.Dispose();
            }
        }
    }

    private static (Process, int) StartMonitor(string binary, string amqp, string storeConnection, int nodes, int index)
    {
        var port = Ports.Free();
        var log = Path.Combine(Path.GetTempPath(), $"pgaf-bench-monitor-{nodes}-{index + 1}.log");
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["RABBITMQ_URL"] = amqp;
        info.Environment["ConnectionStrings__MonitorStore"] = storeConnection;
        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__PgAutoFailover.Monitor.Groups.PartitionOwner"] = "Information"; // who took what, when
        var monitor = Process.Start(info)!;
        var logFile = File.CreateText(log);
        monitor.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (logFile) logFile.WriteLine(e.Data); };
        monitor.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (logFile) logFile.WriteLine(e.Data); };
        monitor.Exited += (_, _) => { lock (logFile) logFile.Dispose(); };
        monitor.EnableRaisingEvents = true;
        monitor.BeginOutputReadLine();
        monitor.BeginErrorReadLine();
        return (monitor, port);
    }

    private static Task<long> EventCountAsync(PgCluster store, string database) =>
        StoreFigureAsync(store, "SELECT coalesce(max(seq_id), 0) FROM pgaf_monitor.mt_events", database);

    /// <summary>One figure from the store, asked again when a connection times out on a box the run has saturated.</summary>
    private static async Task<long> StoreFigureAsync(PgCluster store, string sql, string database = "postgres")
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await store.ScalarAsync<long>(sql, database);
            }
            catch (NpgsqlException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    /// <summary>The most messages seen waiting at once on the monitors' queues, sampled every second until <paramref name="stop"/>.</summary>
    private static async Task<uint> SampleBacklogAsync(Uri amqp, CancellationToken stop)
    {
        uint deepest = 0;
        await using var connection = await new ConnectionFactory { Uri = amqp }.CreateConnectionAsync(CancellationToken.None);
        while (!stop.IsCancellationRequested)
        {
            foreach (var queue in MonitorQueues)
            {
                await using var channel = await connection.CreateChannelAsync(cancellationToken: CancellationToken.None);
                var ok = await channel.QueueDeclarePassiveAsync(queue, CancellationToken.None);
                deepest = Math.Max(deepest, ok.MessageCount);
            }
            try { await Task.Delay(TimeSpan.FromSeconds(1), stop); } catch (OperationCanceledException) { break; }
        }
        return deepest;
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
        throw new TimeoutException("a monitor did not become healthy");
    }

    private static TimeSpan CpuTime(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PgAutoFailover.Contracts;
using PgAutoFailover.HealthChecker;
using PgAutoFailover.HealthChecker.Probing;
using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.Testing;
using static PgAutoFailover.Bench.BenchArguments;

namespace PgAutoFailover.Bench;

/// <summary>
/// Health-checker probe throughput: the real scheduler and probe against a few real local
/// PostgreSQL servers, many nodes as (host, port) entries pointing at them, one period of 1 s.
/// Prints probes/s against the target, p50/p99 probe latency, overruns and the process CPU.
/// Usage: probes [--nodes 10,100,1000] [--seconds 15] [--servers 2] [--period-ms 1000] [--bus] [--fake-servers]
/// (--bus publishes through RabbitMQ at RABBITMQ_URL instead of counting in memory;
/// --fake-servers replaces PostgreSQL by minimal protocol servers in child processes, to measure
/// the checker alone where PostgreSQL cannot accept 1,000 new connections a second).
/// </summary>
public static class ProbeBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var nodeCounts = Option(args, "--nodes", "10,100,1000").Split(',').Select(int.Parse).ToArray();
        var seconds = int.Parse(Option(args, "--seconds", "15"));
        var servers = int.Parse(Option(args, "--servers", "2"));
        var period = TimeSpan.FromMilliseconds(int.Parse(Option(args, "--period-ms", "1000")));
        var useBus = args.Contains("--bus");
        var fake = args.Contains("--fake-servers");

        Console.WriteLine($"probe benchmark: {servers} servers, period {period.TotalMilliseconds} ms, {seconds} s per run, " +
                          $"sink {(useBus ? "RabbitMQ" : "in-memory")}, {(fake ? "fake protocol servers" : "real PostgreSQL 15")}, {Environment.ProcessorCount} cores");
        var clusters = new List<PgCluster>();
        var fakes = new List<Process>();
        var ports = new List<int>();
        IBusControl? bus = null;
        try
        {
            for (var i = 0; i < servers; i++)
            {
                if (fake)
                {
                    var port = Ports.Free();
                    var server = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["fake-pg", port.ToString()]) { RedirectStandardOutput = true })!;
                    fakes.Add(server);
                    await server.StandardOutput.ReadLineAsync();
                    ports.Add(port);
                }
                else
                {
                    var cluster = await PgCluster.CreateAsync("max_connections=300");
                    clusters.Add(cluster);
                    ports.Add(cluster.Port);
                }
            }
            if (useBus)
            {
                var url = Environment.GetEnvironmentVariable("RABBITMQ_URL") ?? "amqp://guest:guest@127.0.0.1:5672/";
                bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
                {
                    rabbit.Host(new Uri(url));
                    rabbit.UseMonitorPartitionRouting();
                });
                await bus.StartAsync();
            }
            Console.WriteLine($"{"nodes",6} {"probes/s",9} {"target/s",9} {"ratio",6} {"p50 ms",7} {"p99 ms",7} {"overruns",8} {"failed",7} {"pub/s",7} {"CPU cores",9} {"server CPU",10}");
            foreach (var nodes in nodeCounts)
            {
                var sink = bus is null ? (IProbeSink)new CountingSink() : new BusProbeSink(bus);
                var result = await RunOnceAsync(nodes, ports, period, TimeSpan.FromSeconds(seconds), sink, () => ServerCpu(clusters, fakes),
                    fake ? "Server Compatibility Mode=NoTypeLoading;SSL Mode=Disable" : "");
                Console.WriteLine(result);
            }
            return 0;
        }
        finally
        {
            if (bus is not null) await bus.StopAsync();
            foreach (var cluster in clusters) await cluster.DisposeAsync();
            foreach (var server in fakes) { server.Kill(); server.Dispose(); }
        }
    }

    private static async Task<string> RunOnceAsync(int nodes, IReadOnlyList<int> ports, TimeSpan period, TimeSpan duration, IProbeSink sink, Func<TimeSpan> serverCpu, string connectionParameters)
    {
        var options = Options.Create(new HealthCheckerOptions
        {
            ProbePeriod = period,
            CheckerId = "bench",
            Username = "postgres",
            ConnectionParameters = connectionParameters,
        });
        var targets = new ProbeTargets(options);
        for (var i = 0; i < nodes; i++)
        {
            targets.Set(new NodeAddress("bench", i / 2, i + 1, $"node_{i + 1}", "127.0.0.1", ports[i % ports.Count]));
        }

        using var meter = new Meter(HealthCheckerService.Telemetry.ServiceName);
        var counters = new ConcurrentDictionary<string, long>();
        var latencies = new ConcurrentQueue<double>();
        var measuring = false;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter == meter) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (Volatile.Read(ref measuring)) counters.AddOrUpdate(instrument.Name, value, (_, v) => v + value);
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (Volatile.Read(ref measuring) && instrument.Name == ProbeMetrics.DurationName) latencies.Enqueue(value);
        });
        listener.Start();

        var scheduler = new ProbeScheduler(targets, new PostgresProbe(options, TimeProvider.System), sink, new ProbeMetrics(meter),
            options, TimeProvider.System, NullLogger<ProbeScheduler>.Instance);
        using var stop = new CancellationTokenSource();
        var running = scheduler.RunAsync(stop.Token);

        await Task.Delay(period * 2 + TimeSpan.FromSeconds(1));   // warm-up: first connections, JIT, loops spread over the period
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var serverBefore = serverCpu();
        var wall = Stopwatch.StartNew();
        Volatile.Write(ref measuring, true);
        await Task.Delay(duration);
        Volatile.Write(ref measuring, false);
        wall.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var server = serverCpu() - serverBefore;
        await stop.CancelAsync();
        await running;

        var elapsed = wall.Elapsed.TotalSeconds;
        var probes = counters.GetValueOrDefault("pgaf.probes");
        var rate = probes / elapsed;
        var target = nodes / period.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        return $"{nodes,6} {rate,9:0.0} {target,9:0.0} {rate / target,6:0.00} {Percentile(sorted, 0.50) * 1000,7:0.00} {Percentile(sorted, 0.99) * 1000,7:0.00} " +
               $"{counters.GetValueOrDefault("pgaf.probe.overruns"),8} {counters.GetValueOrDefault("pgaf.probe.failures"),7} " +
               $"{counters.GetValueOrDefault("pgaf.probe.published") / elapsed,7:0.0} {cpu.TotalSeconds / elapsed,9:0.000} {server.TotalSeconds / elapsed,10:0.000}";
    }

    /// <summary>
    /// CPU of the servers: a postmaster's own time plus that of its reaped children (every
    /// short-lived backend a probe made), from /proc; the fake servers' process time.
    /// </summary>
    private static TimeSpan ServerCpu(IReadOnlyList<PgCluster> clusters, IReadOnlyList<Process> fakes)
    {
        var ticks = 0L;
        foreach (var cluster in clusters)
        {
            try
            {
                var pid = File.ReadLines(Path.Combine(cluster.DataDirectory, "postmaster.pid")).First().Trim();
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // utime, stime, cutime, cstime are fields 14-17 of stat, i.e. 11-14 after the command.
                ticks += Enumerable.Range(11, 4).Sum(i => long.Parse(fields[i]));
            }
            catch (IOException) { }
        }
        var total = TimeSpan.FromSeconds(ticks / 100.0);   // USER_HZ
        foreach (var fake in fakes)
        {
            fake.Refresh();
            total += fake.TotalProcessorTime;
        }
        return total;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];


    private sealed class CountingSink : IProbeSink
    {
        public Task PublishAsync(NodeProbed probe, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.HealthChecker.Probing;
using PgAutoFailover.Testing;

namespace PgAutoFailover.HealthChecker.Tests;

/// <summary>The probe and the scheduler against a real PostgreSQL cluster, a closed port and a hung server.</summary>
public sealed class ProbeTests(PgClusterFixture postgres) : IClassFixture<PgClusterFixture>
{
    private static HealthCheckerOptions Options(int retries = 1, int periodMs = 1000, int timeoutMs = 800) => new()
    {
        ProbePeriod = TimeSpan.FromMilliseconds(periodMs),
        ProbeTimeout = TimeSpan.FromMilliseconds(timeoutMs),
        RetryDelay = TimeSpan.FromMilliseconds(50),
        Retries = retries,
        Username = "postgres",
        CheckerId = "probe-tests",
        SslMode = SslMode.Disable, // the fixture's server runs without TLS (keepers' nodes serve it: TlsTests)
    };

    private static NodeAddress Address(int port) => new("f", 0, 1, "node_1", "127.0.0.1", port);

    private static PostgresProbe Probe(HealthCheckerOptions options) => new(Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System);

    [Fact]
    public async Task A_running_primary_answers_and_is_not_in_recovery()
    {
        // Limits that a loaded box's first connection (Npgsql's code compiled on first use) cannot outlast: this is about
        // the answer, not its speed (an 800 ms limit failed once in a clean-clone run).
        var result = await Probe(Options(periodMs: 30_000, timeoutMs: 10_000)).ProbeAsync(Address(postgres.Cluster.Port), CancellationToken.None);
        Assert.True(result.Succeeded, result.Error);
        Assert.False(result.InRecovery);
        Assert.Equal("probe-tests", result.CheckerId);
    }

    [Fact]
    public async Task By_default_a_server_without_tls_is_a_failed_probe_that_says_so()
    {
        var options = Options(retries: 0);
        options.SslMode = new HealthCheckerOptions().SslMode;
        var result = await Probe(options).ProbeAsync(Address(postgres.Cluster.Port), CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Contains("SSL", result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_within_the_period()
    {
        var closed = Ports.Free();
        // A retry is made only when it still fits in the period (elapsed + delay + timeout); a 5 s period leaves room for a
        // slow first attempt on a loaded box (with 1 s, a first attempt over 150 ms meant no retry: seen once).
        var retried = await Probe(Options(retries: 1, periodMs: 5000)).ProbeAsync(Address(closed), CancellationToken.None);
        Assert.False(retried.Succeeded);
        Assert.StartsWith("attempt 2: ", retried.Error);
        Assert.Contains("refused", retried.Error, StringComparison.OrdinalIgnoreCase);

        var once = await Probe(Options(retries: 0)).ProbeAsync(Address(closed), CancellationToken.None);
        Assert.DoesNotContain("attempt", once.Error);
    }

    [Fact]
    public async Task A_hung_server_times_out_and_is_not_retried_past_the_period()
    {
        using var hung = new Blackhole();
        var result = await Probe(Options(retries: 3, periodMs: 1000, timeoutMs: 600)).ProbeAsync(Address(hung.Port), CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Equal("no answer within 600 ms", result.Error);
        Assert.True(result.Latency >= TimeSpan.FromMilliseconds(550), $"latency {result.Latency}");
    }

    [Fact]
    public async Task Probes_that_outlast_their_period_are_counted_as_overruns_and_published_as_failures()
    {
        using var hung = new Blackhole();
        var options = Microsoft.Extensions.Options.Options.Create(Options(retries: 0, periodMs: 200, timeoutMs: 500));
        var targets = new ProbeTargets(options);
        targets.Set(Address(hung.Port));
        targets.Set(new NodeAddress("f", 0, 2, "node_2", "127.0.0.1", postgres.Cluster.Port));
        using var meter = new Meter("probe-tests-" + Guid.NewGuid());
        long overruns = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter == meter) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "pgaf.probe.overruns") Interlocked.Add(ref overruns, value);
        });
        listener.Start();
        var sink = new CapturingSink();
        var scheduler = new ProbeScheduler(targets, Probe(options.Value), sink, new ProbeMetrics(meter), options, TimeProvider.System,
            NullLogger<ProbeScheduler>.Instance);
        using var stop = new CancellationTokenSource();
        var running = scheduler.RunAsync(stop.Token);

        // The healthy node's probes have the same 500 ms limit, which a loaded box may miss a few times: wait for one taken.
        await Eventually.TrueAsync(() => Task.FromResult(sink.Published.Count(p => p.Node.NodeId == 1) >= 3
            && sink.Published.Any(p => p.Node.NodeId == 2 && p.Succeeded)), "three failed probes of the hung node and one answer of the healthy one");
        await stop.CancelAsync();
        await running;

        Assert.True(Interlocked.Read(ref overruns) >= 2, $"overruns {overruns}");
        var hungProbes = sink.Published.Where(p => p.Node.NodeId == 1).ToList();
        Assert.All(hungProbes, p => Assert.False(p.Succeeded));
        Assert.Equal(Enumerable.Range(1, hungProbes.Count), hungProbes.Select(p => p.ConsecutiveFailures));
        // The healthy node kept its own schedule beside the hung one.
        Assert.Contains(sink.Published, p => p.Node.NodeId == 2 && p.Succeeded);
    }

    private sealed class CapturingSink : IProbeSink
    {
        public ConcurrentQueue<NodeProbed> Published { get; } = new();

        public Task PublishAsync(NodeProbed probe, CancellationToken cancellationToken)
        {
            Published.Enqueue(probe);
            return Task.CompletedTask;
        }
    }
}

using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.HealthChecker.Tests;

/// <summary>
/// Real health-checkers probing real PostgreSQL clusters and publishing over the real broker,
/// the test playing the monitor (topology out, NodeProbed in).
/// </summary>
public sealed class HealthCheckerTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private PgCluster _node = null!;
    private FakeMonitor _monitor = null!;

    public async Task InitializeAsync()
    {
        _node = await PgCluster.CreateAsync();
        _monitor = await FakeMonitor.StartAsync(broker.AmqpUri);
    }

    public async Task DisposeAsync()
    {
        await _monitor.DisposeAsync();
        await _node.DisposeAsync();
    }

    private static NodeSnapshot Snapshot(string formation, long id, int port, NodeState goal = NodeState.Single) =>
        new(new NodeAddress(formation, 0, id, $"node_{id}", "127.0.0.1", port), goal, goal, NodeHealth.Unknown, 1, 0, 50, true, true, null);

    private static FormationTopologyChanged Topology(string formation, long version, params NodeSnapshot[] nodes) =>
        new(formation, "postgres", version, nodes, DateTimeOffset.UtcNow);

    private Task<ServiceHost> StartCheckerAsync(string checkerId, string confirmEvery = "1", string probePeriod = "00:00:00.300") =>
        ServiceHost.StartAsync(HealthCheckerService.Telemetry, b => b.AddHealthChecker(), new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.AmqpUri.ToString(),
            ["HealthChecker:CheckerId"] = checkerId,
            ["HealthChecker:ProbePeriod"] = probePeriod,
            ["HealthChecker:ProbeTimeout"] = "00:00:00.250",
            ["HealthChecker:ConfirmEvery"] = confirmEvery,
            ["HealthChecker:Username"] = "postgres",
            ["HealthChecker:SslMode"] = "Disable", // the fixture's servers run without TLS
            ["HealthChecker:TopologyRetryDelay"] = "00:00:00.200",
            ["HealthChecker:TopologyRetryMaxDelay"] = "00:00:01",
        });

    /// <summary>Publishes the snapshot until probes of the node arrive (the checker's queue may not exist for the first copy).</summary>
    private async Task PublishUntilProbedAsync(FormationTopologyChanged snapshot, long nodeId)
    {
        await Eventually.TrueAsync(async () =>
        {
            if (_monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == nodeId).Count > 0) return true;
            await _monitor.PublishAsync(snapshot);
            await Task.Delay(500);
            return _monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == nodeId).Count > 0;
        }, $"probes of node {nodeId}");
    }

    [Fact]
    public async Task Nodes_come_and_go_with_the_published_topology()
    {
        await using var checker = await StartCheckerAsync("checker-a");
        await PublishUntilProbedAsync(Topology("come-go", 1, Snapshot("come-go", 31, _node.Port)), 31);

        var probe = _monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 31)[0];
        Assert.True(probe.Succeeded, probe.Error);
        Assert.False(probe.InRecovery);
        Assert.Equal("checker-a", probe.CheckerId);
        Assert.True(probe.Latency > TimeSpan.Zero);

        // Node 31 leaves (goal dropped), node 32 arrives: probes of 31 stop, probes of 32 start.
        await _monitor.PublishAsync(Topology("come-go", 2, Snapshot("come-go", 31, _node.Port, NodeState.Dropped), Snapshot("come-go", 32, _node.Port)));
        await Eventually.TrueAsync(() => Task.FromResult(_monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 32).Count > 0), "probes of node 32");
        await Task.Delay(2000);
        var before = _monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 31).Count;
        await Task.Delay(1500);
        Assert.Equal(before, _monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 31).Count);
        Assert.True(_monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 32).Count >= 3, $"only {_monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 32).Count} probes of node 32 with ConfirmEvery=1");

        using var http = new HttpClient { BaseAddress = checker.BaseAddress };
        await Eventually.TrueAsync(async () => (await http.GetStringAsync("/metrics")).Contains("pgaf_probe_duration"), "the probe histogram on /metrics");
    }

    [Fact]
    public async Task The_topology_asked_for_at_start_is_probed_even_when_the_monitor_answers_late()
    {
        _monitor.AnswerTopologyWith(null);
        await using var checker = await StartCheckerAsync("checker-boot");
        // Unanswered, the checker keeps asking (and keeps running) rather than blocking its start.
        await Eventually.TrueAsync(() => Task.FromResult(_monitor.TopologyRequests >= 2), "a second GetTopology");
        using var http = new HttpClient { BaseAddress = checker.BaseAddress };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/alive")).StatusCode);
        Assert.Empty(_monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 41));

        _monitor.AnswerTopologyWith(Topology("boot", 1, Snapshot("boot", 41, _node.Port)));
        await Eventually.TrueAsync(() => Task.FromResult(_monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 41).Any(p => p.Succeeded)), "a successful probe of node 41");
    }

    [Fact]
    public async Task A_stopped_node_is_reported_failing_every_period_with_a_growing_count()
    {
        await using var stopped = await PgCluster.CreateAsync();
        await stopped.StopAsync();
        await using var checker = await StartCheckerAsync("checker-fail", confirmEvery: "5");
        await PublishUntilProbedAsync(Topology("down", 1, Snapshot("down", 51, stopped.Port)), 51);

        await Eventually.TrueAsync(() => Task.FromResult(_monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 51).Count(p => !p.Succeeded) >= 3), "three failed probes of node 51");
        var failures = _monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 51).Where(p => !p.Succeeded).Take(3).ToList();
        // Refused, as a stopped server's port answers; on a loaded machine (the suite's assemblies run side by side) the
        // refusal can come after the probe's own 250 ms, which it then reports as such: either says why, nothing else may.
        Assert.All(failures, f => Assert.Matches("(?i)refused|no answer within", f.Error ?? ""));
        // Each failure counts one more, not necessarily from 1: a publish that outlasts the 300 ms period is given up
        // (the schedule must not stall behind the broker), and in CI at a load average of 29 the first failure was not
        // seen (2, 3, 4), presumably so. A published failure counts every probe before it, published or not.
        var counts = failures.Select(f => f.ConsecutiveFailures).ToList();
        Assert.True(counts[0] >= 1 && counts.Zip(counts.Skip(1)).All(pair => pair.Second > pair.First), $"counts {string.Join(", ", counts)}");
        Assert.Single(failures.Select(f => f.FailingSince).Distinct());
        Assert.All(failures, f => Assert.Null(f.InRecovery));

        // It comes back: the very next probe is published as a success and the count resets.
        await stopped.StartAsync();
        var back = await Eventually.ValueAsync(() => Task.FromResult(_monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 51).FirstOrDefault(p => p.Succeeded)), "node 51 reachable again");
        Assert.Equal(0, back.ConsecutiveFailures);
        Assert.Null(back.FailingSince);
    }

    [Fact]
    public async Task A_failing_node_is_probed_again_soon_so_three_failures_do_not_take_three_periods()
    {
        await using var stopped = await PgCluster.CreateAsync();
        await stopped.StopAsync();
        // A 20 s period: three failures inside one period can only come from the failing node's short recheck
        // (FailingProbePeriod, 250 ms by default); on the period alone they would span 40 s.
        var period = TimeSpan.FromSeconds(20);
        await using var checker = await StartCheckerAsync("checker-recheck", confirmEvery: "5", probePeriod: period.ToString());
        await PublishUntilProbedAsync(Topology("recheck", 1, Snapshot("recheck", 61, stopped.Port)), 61);

        await Eventually.TrueAsync(() => Task.FromResult(_monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 61).Count(p => !p.Succeeded) >= 3),
            "three failed probes of node 61", TimeSpan.FromSeconds(60));
        var failures = _monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 61).Where(p => !p.Succeeded).Take(3).ToList();
        // Each failure counts one more. Not necessarily from 1: a publish that outlasts the 300 ms period is given up (the
        // schedule must not stall behind the broker); in CI at a load average of 29 the first failure was not seen (
        // 2, 3, 4), presumably so. What is published carries the count of every probe before it, published or not.
        var counts = failures.Select(f => f.ConsecutiveFailures).ToList();
        Assert.True(counts[0] >= 1 && counts.Zip(counts.Skip(1)).All(pair => pair.Second > pair.First), $"counts {string.Join(", ", counts)}");
        Assert.True(failures[2].ProbedAt - failures[0].ProbedAt < period, $"three failures spanned {failures[2].ProbedAt - failures[0].ProbedAt}");
    }

    [Fact]
    public async Task Two_checkers_probe_the_same_node_and_the_monitor_can_tell_them_apart()
    {
        await using var first = await StartCheckerAsync("checker-east");
        await using var second = await StartCheckerAsync("checker-west");
        var topology = Topology("pair", 1, Snapshot("pair", 61, _node.Port));
        await Eventually.TrueAsync(async () =>
        {
            var ids = _monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 61).Select(p => p.CheckerId).Distinct().Count();
            if (ids < 2) await _monitor.PublishAsync(topology);
            await Task.Delay(300);
            return _monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 61).Select(p => p.CheckerId).Distinct().Count() == 2;
        }, "probes of node 61 from both checkers");
        Assert.Equal(["checker-east", "checker-west"], _monitor.ObservedWhere<NodeProbed>(p => p.Node.NodeId == 61).Select(p => p.CheckerId).Distinct().Order());
    }
}

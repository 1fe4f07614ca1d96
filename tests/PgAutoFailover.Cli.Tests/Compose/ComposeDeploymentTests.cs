using PgAutoFailover.Testing;
using PgAutoFailover.Testing.Prometheus;
using Xunit.Abstractions;

namespace PgAutoFailover.Cli.Tests.Compose;

/// <summary>
/// docker-compose.yml built and run for real, the way docs/operations.md ("Docker") tells a user to: images built,
/// `docker-compose up -d`, a healthy two-node cluster, writes through the URI `pgaf show uri` prints, the primary's
/// container killed, the failover with no acknowledged write lost, the container started again as a standby, then
/// `docker-compose down -v`, and the host's forwarding settings as they were before the engine started. The
/// monitoring profile runs too: its Prometheus scrapes the services and fires the failover alert. So does the
/// broker-cluster profile: three broker nodes in one cluster, every durable queue a quorum queue on all three, pgaf given
/// the three hosts; and one of the three monitors is killed with the primary, so the other two fail it over.
/// </summary>
public sealed class ComposeDeploymentTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromMinutes(4);

    [ComposeFact]
    public async Task Compose_deployment_fails_over_a_killed_primary_container_without_losing_an_acknowledged_write()
    {
        var root = ComposeTests.RepositoryRoot;
        // An engine already recorded was started by test.sh, which stops it; one recorded only after the build was started here.
        const string engineState = "/tmp/pgaf-docker-engine.state";
        var startedBefore = File.Exists(engineState);
        await PrepareImagesAsync(root);
        var startedHere = !startedBefore && File.Exists(engineState) ? await File.ReadAllTextAsync(engineState) : null;
        var project = new ComposeProject();
        try
        {
            await project.DownAsync(); // what an interrupted run left
            await UpAsync(project);

            await WaitForStateAsync(project, s => Has(s, "node1", "primary") && Has(s, "node2", "secondary"), "node1 primary, node2 secondary");

            // Every service on the broker as its own user (docs/operations.md#broker-users), none as the administrator.
            var connections = await ComposeProject.DockerAsync("exec", ComposeProject.Container("rabbitmq"), "rabbitmqctl", "-q", "list_connections", "user");
            Assert.True(connections.ExitCode == 0, connections.Combined);
            var users = connections.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
            Assert.Superset(new HashSet<string> { "pgaf-monitor", "pgaf-health-checker", "pgaf-uri-service", "pgaf-keeper" }, users);

            await AssertBrokerClusterAsync();

            // The URI exactly as pgaf prints it: the role, both hosts, the database; no password.
            var shown = await project.PgafAsync("show", "uri", "--uri-service", $"http://127.0.0.1:{project.UriServicePort}");
            Assert.True(shown.ExitCode == 0, shown.Combined);
            var uri = shown.StandardOutput.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("formation", StringComparison.Ordinal)).Split(' ').Last();
            Assert.StartsWith("postgres://app@node1:5432,node2:5432/app?target_session_attrs=read-write", uri);
            Assert.DoesNotContain(project.AppPassword, shown.StandardOutput);

            var writer = await project.StartWriterAsync(uri);
            Assert.True(writer.ExitCode == 0, writer.Combined);
            await Eventually.TrueAsync(async () => (await ComposeProject.AckedAsync()).Count >= 20, "20 acknowledged writes before the crash",
                TimeSpan.FromMinutes(2));

            // The primary and one monitor at once: any of the three may be the one that was deciding for the group.
            var killed = await ComposeProject.DockerAsync("kill", ComposeProject.Container("node1"), ComposeProject.Container("monitor"));
            Assert.True(killed.ExitCode == 0, killed.Combined);
            var ackedAtKill = (await ComposeProject.AckedAsync()).Count;
            await WaitForStateAsync(project, s => Has(s, "node2", "wait_primary") || Has(s, "node2", "primary"), "node2 promoted");
            await Eventually.TrueAsync(async () => (await ComposeProject.AckedAsync()).Count >= ackedAtKill + 20,
                "20 more acknowledged writes on the new primary", Converge);
            await AssertFailoverAlertAsync(project);

            var started = await ComposeProject.DockerAsync("start", ComposeProject.Container("node1"), ComposeProject.Container("monitor"));
            Assert.True(started.ExitCode == 0, started.Combined);
            await WaitForStateAsync(project, s => Has(s, "node2", "primary") && Has(s, "node1", "secondary"), "node1 back as node2's secondary");

            await ComposeProject.DockerAsync("kill", ComposeProject.Container("writer"));
            var acked = await ComposeProject.AckedAsync();
            var stored = await ReadAckedTableAsync(project, uri);
            var rows = stored.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToHashSet();
            var lost = acked.Where(id => !rows.Contains(id)).ToList();
            output.WriteLine($"{acked.Count} writes acknowledged ({ackedAtKill} before the kill), {rows.Count} rows stored, {lost.Count} lost");
            Assert.Empty(lost);
        }
        finally
        {
            await project.DownAsync();
            if (startedHere is not null) await StopEngineAsync(root, startedHere);
        }
    }

    /// <summary>
    /// `docker-compose up -d`, which returns once node1 serves (node2 depends on it being healthy). When it fails or
    /// does not return, what each container was doing is what tells why: their states and last log lines go with it.
    /// </summary>
    private async Task UpAsync(ComposeProject project)
    {
        var started = DateTime.UtcNow;
        string? failure;
        try
        {
            var up = await project.ComposeAsync("up", "-d");
            failure = up.ExitCode == 0 ? null : $"docker-compose up -d failed: {up.Combined}";
        }
        catch (TimeoutException e)
        {
            failure = e.Message;
        }
        if (failure is null)
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.f} docker-compose up -d returned after {(DateTime.UtcNow - started).TotalSeconds:F1} s");
            return;
        }
        var ps = await project.ComposeAsync("ps");
        var logs = await project.ComposeAsync("logs", "--tail", "40", "--no-color");
        Assert.Fail($"{failure}\n{ps.Combined}\n{logs.Combined}");
    }

    /// <summary>
    /// The acked table read with the printed URI. A loaded host may make the new primary fence itself (its lease ran out
    /// with no standby reply, docs/failover-timing.md) just as the test reads: that costs availability, not writes, so
    /// the read is retried until a primary answers, and each refusal is written out with the node containers' logs.
    /// </summary>
    private async Task<ProcessRunner.Result> ReadAckedTableAsync(ComposeProject project, string uri)
    {
        ProcessRunner.Result? stored = null;
        var loggedOnce = false;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                stored = await project.PsqlAsync(uri, "SELECT id FROM acked ORDER BY id");
                if (stored.ExitCode == 0) return true;
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.f} psql with the printed URI refused: {stored.Combined.Trim()}");
                if (!loggedOnce)
                {
                    loggedOnce = true;
                    var logs = await project.ComposeAsync("logs", "--tail", "40", "--no-color", "node1", "node2", "monitor");
                    output.WriteLine(logs.Combined);
                }
                return false;
            }, "psql with the printed URI after the failover", Converge);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}: {stored?.Combined}", e);
        }
        return stored!;
    }

    /// <summary>
    /// The broker-cluster profile: three running nodes in one cluster, and every durable queue the services declared (the
    /// monitor's, each keeper's goal queue) a quorum queue with a member on each, so any one node may die.
    /// </summary>
    private async Task AssertBrokerClusterAsync()
    {
        var broker = ComposeProject.Container("rabbitmq");
        var running = await ComposeProject.DockerAsync("exec", broker, "rabbitmqctl", "-q", "eval", "length(rabbit_nodes:all_running()).");
        Assert.True(running.ExitCode == 0, running.Combined);
        Assert.Equal("3", running.StandardOutput.Trim());
        var queues = await ComposeProject.DockerAsync("exec", broker, "rabbitmqctl", "-q", "list_queues", "name", "durable", "type", "members", "--no-table-headers");
        Assert.True(queues.ExitCode == 0, queues.Combined);
        var durable = queues.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t')).Where(f => f.Length >= 4 && f[1] == "true").ToList();
        Assert.Contains(durable, f => f[0] == "monitor-partition-0");
        Assert.Contains(durable, f => f[0].StartsWith("keeper-node-", StringComparison.Ordinal));
        Assert.All(durable, f =>
        {
            Assert.True(f[2] == "quorum", $"{f[0]} is a {f[2]} queue");
            Assert.True(new[] { "rabbitmq", "rabbitmq-2", "rabbitmq-3" }.All(h => f[3].Contains($"rabbit@{h}", StringComparison.Ordinal)),
                $"{f[0]} has the members {f[3]}");
        });
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.f} broker cluster: 3 nodes running, {durable.Count} durable queues, all quorum queues on the three");
    }

    /// <summary>The profile's Prometheus scraped all three services and fires PgafFailoverHappened for the failover.</summary>
    private async Task AssertFailoverAlertAsync(ComposeProject project)
    {
        using var prometheus = new PrometheusApi(new Uri($"http://127.0.0.1:{project.PrometheusPort}/"));
        try
        {
            await Eventually.TrueAsync(() => prometheus.FiringAsync("PgafFailoverHappened"), "PgafFailoverHappened firing in the compose Prometheus",
                TimeSpan.FromMinutes(2));
            var up = await prometheus.QueryAsync("up == 1");
            // The killed monitor may be up again or not yet: at least two monitors and the other two services.
            var jobs = up.Select(s => s.Labels["job"]).ToList();
            Assert.Equal(["pgaf-health-checker", "pgaf-monitor", "pgaf-uri-service"], jobs.Distinct().Order());
            Assert.InRange(jobs.Count(j => j == "pgaf-monitor"), 2, 3);
        }
        catch (Exception e) when (e is TimeoutException or HttpRequestException)
        {
            var logs = await project.ComposeAsync("logs", "--tail", "20", "--no-color", "prometheus");
            throw new TimeoutException($"{e.Message}\n{logs.Combined}", e);
        }
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.f} PgafFailoverHappened firing in the compose Prometheus");
    }

    /// <summary>
    /// The images: test.sh builds them in the background while the other tests run and leaves the exit code in
    /// PGAF_COMPOSE_IMAGES_RC; run alone, this test builds them (scripts/docker/build-images.sh) itself.
    /// </summary>
    private async Task PrepareImagesAsync(string root)
    {
        if (Environment.GetEnvironmentVariable("PGAF_COMPOSE_IMAGES_RC") is { Length: > 0 } rcFile)
        {
            await Eventually.TrueAsync(() => Task.FromResult(File.Exists(rcFile)), "test.sh's image build", TimeSpan.FromMinutes(30));
            var log = Environment.GetEnvironmentVariable("PGAF_COMPOSE_IMAGES_LOG") ?? "";
            Assert.True(File.ReadAllText(rcFile).Trim() == "0",
                $"scripts/docker/build-images.sh failed; {log} ends:\n{(File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(30)) : "")}");
            return;
        }
        var built = await ProcessRunner.RunAsync(Path.Combine(root, "scripts/docker/build-images.sh"), [], TimeSpan.FromMinutes(30));
        Assert.True(built.ExitCode == 0, $"scripts/docker/build-images.sh failed: {built.Combined}");
    }

    /// <summary>Stops the engine this test started and checks the host's forwarding settings are back.</summary>
    private static async Task StopEngineAsync(string root, string recorded)
    {
        var stopped = await ProcessRunner.RunAsync(Path.Combine(root, "scripts/docker/engine.sh"), ["stop"], TimeSpan.FromMinutes(2));
        Assert.True(stopped.ExitCode == 0, stopped.Combined);
        string Recorded(string key) => recorded.Split('\n').Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];
        Assert.Equal(Recorded("ip_forward"), File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim());
        var policy = await ProcessRunner.RunAsync("iptables", ["-S", "FORWARD"], TimeSpan.FromSeconds(30));
        Assert.Contains($"-P FORWARD {Recorded("forward_policy")}", policy.StandardOutput);
    }

    private static bool Has(IReadOnlyList<(string Name, string Reported, string Assigned)> state, string name, string both) =>
        state.Any(n => n.Name == name && n.Reported == both && n.Assigned == both);

    private async Task WaitForStateAsync(ComposeProject project, Func<IReadOnlyList<(string Name, string Reported, string Assigned)>, bool> done, string what)
    {
        IReadOnlyList<(string, string, string)> last = [];
        try
        {
            await Eventually.TrueAsync(async () => done(last = await project.StateAsync()), what, Converge);
        }
        catch (TimeoutException)
        {
            var ps = await project.ComposeAsync("ps");
            var logs = await project.ComposeAsync("logs", "--tail", "15", "--no-color");
            throw new TimeoutException($"{what}: last state {string.Join("; ", last)}\n{ps.Combined}\n{logs.Combined}");
        }
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.f} {what}: {string.Join("; ", last)}");
    }
}

using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using PgAutoFailover.Testing.Prometheus;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 15 part 4: a real Prometheus scrapes a real cluster's services and evaluates the shipped
/// deploy/prometheus/alerts.yml. Before the crash it holds every gauge the rules read, with the values of a healthy
/// two-node group, and no alert fires; after the primary's processes are killed, PgafFailoverHappened fires, seen
/// through Prometheus's own HTTP API as an on-call's Alertmanager would see it. Every query of the Grafana dashboard
/// (deploy/grafana) answers from the same Prometheus, and its failover annotation marks the failover.
/// </summary>
public sealed class PrometheusAlertTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Prometheus_fires_the_failover_alert_when_the_primary_is_killed()
    {
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync());
        PrometheusServer? prometheus = null;
        try
        {
            await RunAsync();
        }
        finally
        {
            if (prometheus is not null) await prometheus.DisposeAsync();
        }

        Task RunAsync() => cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            DataNode node1 = cluster.Node("node1"), node2 = cluster.Node("node2");
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);
            prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string>
            {
                ["pgaf-monitor"] = $"127.0.0.1:{cluster.MonitorHttpPort}",
                ["pgaf-health-checker"] = $"127.0.0.1:{cluster.HealthCheckerHttpPort}",
                ["pgaf-uri-service"] = $"127.0.0.1:{cluster.UriServiceHttpPort}",
            });
            try
            {
                await AssertHealthyGroupAsync(prometheus);
                await AssertDashboardQueriesAnswerAsync(prometheus);
                var crashedAt = WriteLoad.Clock.Elapsed;
                await node1.CrashAsync();
                await Eventually.TrueAsync(() => prometheus.Api.FiringAsync("PgafFailoverHappened"),
                    "PgafFailoverHappened to fire in Prometheus", TimeSpan.FromSeconds(90));
                output.WriteLine($"PgafFailoverHappened firing {(WriteLoad.Clock.Elapsed - crashedAt).TotalSeconds:F1} s after the crash");
                // The alert fires as the failover begins (node2 then holds prepare_promotion): the writer's goal follows.
                // node1's last report still says primary (its keeper is dead); the goals say who the writer is.
                var writers = await Eventually.ValueAsync(async () =>
                    await prometheus.Api.QueryAsync("pgaf_node_goal_state{state=~\"primary|wait_primary\"}") is { Count: > 0 } found ? found : null,
                    "a writable goal in Prometheus after the failover", TimeSpan.FromSeconds(60));
                Assert.Equal("node2", Assert.Single(writers).Labels["node"]);
                await Eventually.TrueAsync(async () => (await prometheus.Api.QueryAsync("pgaf_group_writable_nodes == 1")).Count == 1,
                    "one writable node (node2) counted once node1's keeper is silent", TimeSpan.FromSeconds(30));
                Assert.False(await node2.ScalarAsync<bool>("SELECT pg_is_in_recovery()"), "Prometheus says node2 writes, PostgreSQL disagrees");
                var failovers = Assert.Single(await prometheus.Api.QueryAsync("pgaf_monitor_failovers_total{planned=\"false\"}"));
                Assert.Equal(1, failovers.Value);
                foreach (var (name, expression) in GrafanaDashboard.Load().AnnotationQueries)
                {
                    await Eventually.TrueAsync(async () => (await prometheus.Api.QueryAsync(GrafanaDashboard.AsSent(expression))).Count > 0,
                        $"the dashboard's {name} annotation to mark the failover", TimeSpan.FromSeconds(30));
                }
            }
            catch (Exception e) when (prometheus is not null)
            {
                throw new InvalidOperationException($"{e.Message}\n==== prometheus ====\n{prometheus.LogTail()}", e);
            }
        });
    }

    /// <summary>
    /// Every query of the shipped Grafana dashboard, sent as Grafana sends it, is valid PromQL (a bad one is a 400 that
    /// fails the test at once) and answers with at least one series for a healthy group: no panel stays empty.
    /// </summary>
    private static async Task AssertDashboardQueriesAnswerAsync(PrometheusServer prometheus)
    {
        var queries = GrafanaDashboard.Load().PanelQueries.ToList();
        Assert.NotEmpty(queries);
        List<string> empty = [];
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                empty = [];
                foreach (var (panel, expression) in queries)
                {
                    if ((await prometheus.Api.QueryAsync(GrafanaDashboard.AsSent(expression))).Count == 0) empty.Add($"{panel}: {expression}");
                }
                return empty.Count == 0;
            }, "every dashboard query to answer", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"dashboard queries with no data on a healthy cluster:\n{string.Join('\n', empty)}");
        }
    }

    /// <summary>Every gauge the rules read is scraped under the names they use, with a healthy group's values.</summary>
    private async Task AssertHealthyGroupAsync(PrometheusServer prometheus)
    {
        await Eventually.TrueAsync(async () =>
                (await prometheus.Api.QueryAsync("pgaf_bus_connected == 1")).Count == 3
                && (await prometheus.Api.QueryAsync("pgaf_node_streaming{node=\"node2\"} == 1")).Count == 1
                && (await prometheus.Api.QueryAsync("pgaf_group_sync_standbys_ready")).Any(s => s.Value == 1),
            "Prometheus to scrape the three services' bus gauges and a streaming standby", TimeSpan.FromSeconds(60));

        async Task<double> One(string query) => Assert.Single(await prometheus.Api.QueryAsync(query)).Value;
        var primary = Assert.Single(await prometheus.Api.QueryAsync("pgaf_node_reported_state{state=\"primary\"}"));
        Assert.Equal(("node1", "default", "0"), (primary.Labels["node"], primary.Labels["formation"], primary.Labels["group"]));
        Assert.Equal(1, await One("pgaf_node_goal_state{node=\"node2\",state=\"secondary\"}"));
        Assert.Equal(2, (await prometheus.Api.QueryAsync("pgaf_node_health{health=\"good\"} == 1")).Count);
        Assert.Equal(1, await One("pgaf_group_writable_nodes"));
        Assert.Equal(1, await One("pgaf_group_automatic_failover"));
        Assert.InRange(await One("pgaf_node_replication_lag_bytes{node=\"node2\"}"), 0, 16 * 1024 * 1024);
        Assert.InRange(await One("pgaf_node_lease_remaining_seconds{node=\"node1\"}"), 0.001, 60);
        Assert.All(await prometheus.Api.QueryAsync("pgaf_node_report_age_seconds"), s => Assert.InRange(s.Value, 0, 10));
        Assert.Equal(0, await One("pgaf_monitor_failovers_total{planned=\"false\"}"));
        // Before its first scrape Prometheus rightly holds PgafMonitorDown pending (no `up` series yet); once the
        // scrapes are in, a healthy group has no alert at all, pending or firing.
        IReadOnlyList<(string Name, string State, Dictionary<string, string> Labels)> alerts = [];
        try
        {
            await Eventually.TrueAsync(async () => (alerts = await prometheus.Api.AlertsAsync()).Count == 0, "no alert on a healthy cluster",
                TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"alerts on a healthy cluster: {string.Join(", ", alerts.Select(a => $"{a.Name} {a.State}"))}");
        }
    }
}

using System.Text.Json;
using System.Text.RegularExpressions;
using PgAutoFailover.Testing.EndToEnd;
using PgAutoFailover.Testing.Prometheus;

namespace PgAutoFailover.IntegrationTests.Monitoring;

/// <summary>
/// Issue 15 part 4: the Grafana dashboard shipped in deploy/grafana imports into any Grafana (its data source is a
/// variable, not one installation's id), and reads only metrics the services export, as docs/operations.md lists
/// them. That each of its queries answers from a real cluster is checked end to end by PrometheusAlertTests.
/// </summary>
public sealed partial class DashboardTests
{
    private readonly GrafanaDashboard _dashboard = GrafanaDashboard.Load();

    [Fact]
    public void Every_panel_has_its_own_id_a_place_on_the_grid_and_a_query()
    {
        var panels = _dashboard.Panels.ToList();
        Assert.NotEmpty(panels);
        var ids = panels.Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString();
            var grid = panel.GetProperty("gridPos");
            Assert.True(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32() <= 24, $"{title} is wider than the grid");
            if (panel.GetProperty("type").GetString() == "row") continue;
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.True(targets.Count > 0, $"{title} has no query");
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString()), $"{title} has an empty query"));
            Assert.Equal(targets.Count, targets.Select(t => t.GetProperty("refId").GetString()).Distinct().Count());
        }
    }

    [Fact]
    public void Every_data_source_is_the_dashboards_prometheus_variable()
    {
        var sources = new List<JsonElement>();
        Collect(_dashboard.Root, sources);
        Assert.NotEmpty(sources);
        Assert.All(sources, source =>
        {
            Assert.Equal("prometheus", source.GetProperty("type").GetString());
            Assert.Equal("${datasource}", source.GetProperty("uid").GetString());
        });

        static void Collect(JsonElement element, List<JsonElement> found)
        {
            if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray()) Collect(item, found);
            }
            else if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "datasource") found.Add(property.Value);
                    else Collect(property.Value, found);
                }
            }
        }
    }

    [Fact]
    public void Every_query_uses_only_variables_it_defines_and_metrics_the_docs_list()
    {
        var documented = File.ReadAllText(Path.Combine(ServiceProcess.RepositoryRoot, "docs", "operations.md"));
        var queries = _dashboard.PanelQueries.Concat(_dashboard.AnnotationQueries).ToList();
        Assert.NotEmpty(queries);
        foreach (var (where, expression) in queries)
        {
            Assert.DoesNotContain("$", GrafanaDashboard.AsSent(expression));
            foreach (var metric in MetricName().Matches(expression).Select(m => m.Value))
            {
                var family = HistogramSeries().Replace(metric, "");
                Assert.True(Regex.IsMatch(documented, $"`{Regex.Escape(family)}[`{{]"),
                    $"{where}: {family} is not among the metrics docs/operations.md lists");
            }
        }
    }

    [GeneratedRegex(@"\bpgaf_[a-z_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSeries();
}

using System.Text.Json;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.Testing.Prometheus;

/// <summary>
/// The shipped Grafana dashboard, deploy/grafana/pgaf-overview.json, read as the tests check it: its panels and
/// every PromQL query in it (panel targets and annotations), with the dashboard's variables replaced the way Grafana
/// would for "all formations" and a 1 s scrape interval.
/// </summary>
public sealed class GrafanaDashboard
{
    /// <summary>Grafana's variables in the queries, and what Grafana would put in their place.</summary>
    private static readonly (string Variable, string Value)[] Variables = [("$formation", ".*"), ("$__rate_interval", "1m")];

    private GrafanaDashboard(JsonElement root) => Root = root;

    public static string File => Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "grafana", "pgaf-overview.json");

    public JsonElement Root { get; }

    public static GrafanaDashboard Load() => new(JsonDocument.Parse(System.IO.File.ReadAllText(File)).RootElement.Clone());

    /// <summary>Every panel, rows included.</summary>
    public IEnumerable<JsonElement> Panels => Root.GetProperty("panels").EnumerateArray();

    /// <summary>Each panel target's query as written, by panel title.</summary>
    public IEnumerable<(string Panel, string Expression)> PanelQueries =>
        from panel in Panels
        where panel.TryGetProperty("targets", out _)
        from target in panel.GetProperty("targets").EnumerateArray()
        select (panel.GetProperty("title").GetString() ?? "", target.GetProperty("expr").GetString() ?? "");

    /// <summary>Each annotation's query as written, by annotation name.</summary>
    public IEnumerable<(string Name, string Expression)> AnnotationQueries =>
        from annotation in Root.GetProperty("annotations").GetProperty("list").EnumerateArray()
        where annotation.TryGetProperty("expr", out _)
        select (annotation.GetProperty("name").GetString() ?? "", annotation.GetProperty("expr").GetString() ?? "");

    /// <summary><paramref name="expression"/> as Grafana would send it to Prometheus for every formation.</summary>
    public static string AsSent(string expression) =>
        Variables.Aggregate(expression, (query, v) => query.Replace(v.Variable, v.Value, StringComparison.Ordinal));
}

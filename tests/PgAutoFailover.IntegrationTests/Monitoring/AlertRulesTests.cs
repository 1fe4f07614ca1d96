using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.IntegrationTests.Monitoring;

/// <summary>
/// Issue 15 part 4: the shipped Prometheus files are checked by Prometheus's own tool (Debian's prometheus package,
/// installed by test.sh; PROMTOOL names another binary). deploy/prometheus/alerts.test.yml holds one scenario per
/// rule, each saying when it must and must not fire.
/// </summary>
public sealed class AlertRulesTests
{
    private static readonly string Directory = Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "prometheus");

    private static string Promtool =>
        Environment.GetEnvironmentVariable("PROMTOOL") is { Length: > 0 } p ? p
        : File.Exists("/usr/bin/promtool") ? "/usr/bin/promtool"
        : throw new InvalidOperationException("/usr/bin/promtool is missing: install Debian's prometheus package (test.sh does) or set PROMTOOL");

    [Fact]
    public async Task The_alert_rules_pass_their_promtool_unit_tests()
    {
        var result = await ProcessRunner.RunAsync(Promtool, ["test", "rules", Path.Combine(Directory, "alerts.test.yml")], TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.Combined);
        Assert.Contains("SUCCESS", result.Combined);
    }

    [Fact]
    public async Task The_compose_prometheus_configuration_and_its_rules_are_valid()
    {
        var result = await ProcessRunner.RunAsync(Promtool, ["check", "config", Path.Combine(Directory, "prometheus.yml")], TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.Combined);
        Assert.Contains("SUCCESS: 9 rules found", result.Combined);
    }

    [Fact]
    public void Every_alert_rule_has_a_unit_test()
    {
        var rules = File.ReadLines(Path.Combine(Directory, "alerts.yml"))
            .Select(l => l.Trim()).Where(l => l.StartsWith("- alert: ", StringComparison.Ordinal)).Select(l => l["- alert: ".Length..]).ToList();
        var tested = File.ReadLines(Path.Combine(Directory, "alerts.test.yml"))
            .Select(l => l.Trim()).Where(l => l.StartsWith("alertname: ", StringComparison.Ordinal)).Select(l => l["alertname: ".Length..]).ToHashSet();
        Assert.NotEmpty(rules);
        Assert.All(rules, rule => Assert.Contains(rule, tested));
    }
}

using System.Reflection;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>Every entry of the rule tables has at least one test named after it.</summary>
public class RuleCoverageTests
{
    [Fact]
    public void Every_rule_id_has_a_test_named_after_it()
    {
        var testNames = typeof(RuleCoverageTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => m.Name).ToList();
        var missing = MonitorCore.RuleIds
            .Where(id => !testNames.Any(n => n.StartsWith(id.Replace('-', '_') + "_", StringComparison.Ordinal)
                                             || n.Contains("_" + id.Replace('-', '_') + "_", StringComparison.Ordinal)))
            .ToList();
        Assert.True(missing.Count == 0, "rules without a test: " + string.Join(", ", missing));
    }
}

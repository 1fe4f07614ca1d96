using System.Text;
using PgAutoFailover.Monitor.Core.Rules;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>docs/states.md lists the monitor's rule tables as the code has them, in their order.</summary>
public sealed class DocsTests
{
    private static string Table(IEnumerable<(string Id, string Summary)> rules)
    {
        var table = new StringBuilder("| rule | when, and what it does |\n|---|---|\n");
        foreach (var (id, summary) in rules) table.Append($"| `{id}` | {GeneratedDocs.Cell(summary)} |\n");
        return table.ToString();
    }

    [Fact]
    public void The_states_page_lists_the_group_state_machine() =>
        GeneratedDocs.AssertBlock("docs/states.md", "group-state-machine", Table(GroupStateMachineRules.Table.Select(r => (r.Id, r.Summary))));

    [Fact]
    public void The_states_page_lists_the_primary_rules() =>
        GeneratedDocs.AssertBlock("docs/states.md", "primary-rules", Table(PrimaryRules.Table.Select(r => (r.Id, r.Summary))));

    [Fact]
    public void The_states_page_lists_the_election_steps() =>
        GeneratedDocs.AssertBlock("docs/states.md", "election", Table(Election.Catalogue));
}

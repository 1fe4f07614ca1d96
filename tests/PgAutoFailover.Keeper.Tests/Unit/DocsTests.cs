using System.Text;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Unit;

/// <summary>docs/states.md lists the keeper's transition table as the code has it.</summary>
public sealed class DocsTests
{
    [Fact]
    public void The_states_page_lists_every_keeper_transition()
    {
        var table = new StringBuilder("| row | from | to | local actions | why |\n|---|---|---|---|---|\n");
        foreach (var row in TransitionTable.Rows)
        {
            var from = row.From is { } f ? $"`{KeeperStates.Name(f)}`" : "any";
            var plan = row.Plan.Count == 0 ? "—" : string.Join(", ", row.Plan);
            table.Append($"| {row.Id} | {from} | `{KeeperStates.Name(row.To)}` | {plan} | {GeneratedDocs.Cell(row.Comment)} |\n");
        }
        GeneratedDocs.AssertBlock("docs/states.md", "keeper-transitions", table.ToString());
    }
}

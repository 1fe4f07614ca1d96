using System.CommandLine;
using PgAutoFailover.Contracts;

// pgaf verbs: create formation, drop formation, drop node.
namespace PgAutoFailover.Cli;

public static partial class PgafApp
{
    private sealed partial class App
    {
        // ---- create / drop

        private Command CreateFormation()
        {
            var formation = new Option<string>("--formation") { Description = "Name of the new formation", Required = true };
            var dbname = new Option<string>("--dbname") { Description = "Application database name", DefaultValueFactory = _ => "postgres" };
            var sync = new Option<int>("--number-sync-standbys") { Description = "Initial number_sync_standbys (0 or more)", DefaultValueFactory = _ => 0 };
            var command = new Command("formation", "Create a formation") { formation, dbname, sync };
            SetMonitorAction(command, async (p, monitor, ct) =>
            {
                var name = FormationName(p.GetValue(formation));
                var database = p.GetValue(dbname);
                if (string.IsNullOrWhiteSpace(database)) throw Usage("--dbname must not be empty");
                var standbys = NonNegative(p.GetValue(sync), "--number-sync-standbys");
                return await monitor.CommandAsync(new CreateFormation(name, database.Trim(), standbys), ct);
            });
            return command;
        }

        private Command DropFormation()
        {
            var formation = new Option<string>("--formation") { Description = "Formation to drop (it must have no node left)", Required = true };
            var command = new Command("formation", "Drop an empty formation") { formation };
            SetMonitorAction(command, (p, monitor, ct) => monitor.CommandAsync(new DropFormation(FormationName(p.GetValue(formation))), ct));
            return command;
        }

        private Command DropNode()
        {
            var formation = FormationOption();
            var nodeId = NodeIdOption("Id of the node to remove");
            var name = new Option<string?>("--name") { Description = "Name of the node to remove (instead of --node-id)" };
            var force = new Option<bool>("--force") { Description = "Remove the node at once, even if its keeper cannot confirm (node lost)" };
            var command = new Command("node", "Remove a node from its group") { formation, nodeId, name, force };
            SetMonitorAction(command, (p, monitor, ct) =>
            {
                var (id, nodeName) = NodeIdOrName(p.GetValue(nodeId), p.GetValue(name));
                return monitor.CommandAsync(new DropNode(FormationName(p.GetValue(formation)), id, nodeName, p.GetValue(force)), ct);
            });
            return command;
        }
    }
}

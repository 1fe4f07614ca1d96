using System.CommandLine;
using PgAutoFailover.Contracts;

// pgaf verbs: enable / disable maintenance and automatic failover.
namespace PgAutoFailover.Cli;

public static partial class PgafApp
{
    private sealed partial class App
    {
        // ---- enable / disable maintenance

        private Command Maintenance(bool enable)
        {
            var formation = FormationOption();
            var nodeId = NodeIdOption(enable ? "Id of the node to take out of automation" : "Id of the node to return to automation");
            nodeId.Required = true;
            var command = new Command("maintenance", enable ? "Take a node out of automation (maintenance)" : "Return a node from maintenance to automation")
            {
                formation, nodeId,
            };
            var wait = WaitOption(enable ? "the node is in maintenance" : "the node is back as a secondary or primary");
            command.Options.Add(wait);
            Option<bool>? allowFailover = null;
            if (enable)
            {
                allowFailover = new Option<bool>("--allow-failover") { Description = "On the primary: allow a failover so that it can go to maintenance" };
                command.Options.Add(allowFailover);
            }
            SetMonitorAction(command, (p, monitor, ct) =>
            {
                var id = NodeId(p.GetValue(nodeId));
                var name = FormationName(p.GetValue(formation));
                return enable
                    ? monitor.CommandAsync(new EnableMaintenance(name, id, p.GetValue(allowFailover!)), ct)
                    : monitor.CommandAsync(new DisableMaintenance(name, id), ct);
            }, validate: p => NodeId(p.GetValue(nodeId)), waitOption: wait,
            plan: (p, _, _) =>
            {
                var id = NodeId(p.GetValue(nodeId));
                return Task.FromResult(new WaitPlan(FormationName(p.GetValue(formation)),
                    enable ? Waiter.InMaintenance(id) : Waiter.BackFromMaintenance(id),
                    enable ? $"maintenance of node {id}" : $"node {id} back in automation"));
            });
            return command;
        }

        private Command AutomaticFailover(bool enable)
        {
            var formation = FormationOption();
            var command = new Command("automatic-failover", enable
                ? "Resume automatic failover: an unhealthy primary is replaced by itself again"
                : "Pause automatic failover: no failover starts by itself (one under way finishes; switchover, failover, promotion and maintenance still work)")
            {
                formation,
            };
            SetMonitorAction(command, (p, monitor, ct) =>
                monitor.CommandAsync(new SetAutomaticFailover(FormationName(p.GetValue(formation)), enable), ct));
            return command;
        }
    }
}

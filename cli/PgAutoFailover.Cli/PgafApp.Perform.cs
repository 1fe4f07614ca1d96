using System.CommandLine;
using System.Globalization;
using PgAutoFailover.Contracts;

// pgaf verbs: perform failover, switchover and promotion.
namespace PgAutoFailover.Cli;

public static partial class PgafApp
{
    private sealed partial class App
    {
        // ---- perform

        private Command PerformFailover(string verb, string description, Func<string, int, bool, object> message, bool offerAllowDataLoss)
        {
            var formation = FormationOption();
            var group = GroupOption();
            var wait = WaitOption("another node is the group's primary");
            var command = new Command(verb, description) { formation, group, wait };
            var allowDataLoss = new Option<bool>("--allow-data-loss")
            {
                Description = "When an election waits for standbys that may hold acknowledged writes, elect the best candidate that reported anyway: writes it lacks are lost",
            };
            if (offerAllowDataLoss) command.Options.Add(allowDataLoss);
            SetMonitorAction(command, (p, monitor, ct) =>
            {
                var request = message(FormationName(p.GetValue(formation)), NonNegative(p.GetValue(group), "--group"), offerAllowDataLoss && p.GetValue(allowDataLoss));
                return request switch
                {
                    PerformFailover failover => monitor.CommandAsync(failover, ct),
                    PerformSwitchover switchover => monitor.CommandAsync(switchover, ct),
                    _ => throw new InvalidOperationException(request.GetType().Name),
                };
            }, validate: p => (FormationName(p.GetValue(formation)), NonNegative(p.GetValue(group), "--group")), waitOption: wait,
            plan: async (p, monitor, ct) =>
            {
                var name = FormationName(p.GetValue(formation));
                var groupId = p.GetValue(group);
                var before = await monitor.QueryAsync<GetFormationState, FormationState>(new GetFormationState(name), ct);
                return new WaitPlan(name, Waiter.NewPrimary(groupId, Waiter.Writer(before, groupId)), $"a new primary in group {groupId}");
            });
            return command;
        }

        private Command PerformPromotion()
        {
            var formation = FormationOption();
            var nodeId = NodeIdOption("Id of the node to promote");
            var name = new Option<string?>("--name") { Description = "Name of the node to promote (instead of --node-id)" };
            var wait = WaitOption("the node is the primary");
            var command = new Command("promotion", "Make the given node the primary of its group") { formation, nodeId, name, wait };
            SetMonitorAction(command, (p, monitor, ct) =>
            {
                var (id, nodeName) = NodeIdOrName(p.GetValue(nodeId), p.GetValue(name));
                return monitor.CommandAsync(new PerformPromotion(FormationName(p.GetValue(formation)), id, nodeName), ct);
            }, validate: p => NodeIdOrName(p.GetValue(nodeId), p.GetValue(name)), waitOption: wait,
            plan: (p, _, _) =>
            {
                var (id, nodeName) = NodeIdOrName(p.GetValue(nodeId), p.GetValue(name));
                return Task.FromResult(new WaitPlan(FormationName(p.GetValue(formation)), Waiter.Promoted(id, nodeName),
                    $"node {(id is { } i ? i.ToString(CultureInfo.InvariantCulture) : nodeName)} as primary"));
            });
            return command;
        }
    }
}

using static PgAutoFailover.Contracts.NodeState;
using static PgAutoFailover.Monitor.Core.Rules.RuleContext;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>docs/states.md#operator-commands: start_maintenance and stop_maintenance.</summary>
internal static partial class OperatorRules
{
    // ---- start_maintenance / stop_maintenance ------------------------------------------------------

    private static Decision StartMaintenance(DecisionContext ctx, long nodeId, bool allowFailover)
    {
        if (ctx.State.Find(nodeId) is not { } node || node.GoalState == Dropped) return Unknown(nodeId);
        if (node.ReportedState == Maintenance || node.GoalState == Maintenance) return ctx.ToDecision();

        if (Conv(node, Primary))
        {
            if (!allowFailover)
                return Refuse($"cannot start maintenance on {node.Label}: it is the primary; use --allow-failover");
            var others = ctx.Others(node).ToList();
            if (!ctx.HealthyCandidates(others).Any())
                return Refuse($"cannot start maintenance on {node.Label}: not currently possible with 0 candidate nodes");
            // As for a switchover: with two nodes the only other node gets prepare_promotion, silent or not.
            if (CandidatesSilent(ctx, others) is { } silent) return Refuse($"cannot start maintenance on {node.Label}: {silent}");
            if (!ctx.Reporting(node))
                return Refuse($"cannot start maintenance on {node.Label}: it {SilentFor(ctx, node)}; retry when it is healthy");
            ctx.BeginFailover(node, $"maintenance of {node.Label}", planned: true);
            ctx.Assign(nodeId, PrepareMaintenance, "API-START-MAINTENANCE", "operator enabled maintenance");
            if (ctx.N == 2)
                ctx.Assign(ctx.Others(node).First().NodeId, PreparePromotion, "API-START-MAINTENANCE", $"{node.Label} goes to maintenance");
            else
                new RuleContext(ctx, ctx.Others(node).First().NodeId).Run(GroupStateMachineRules.Table);
            return ctx.ToDecision();
        }

        if (node.ReportedState is Secondary or CatchingUp && ctx.Primary is { } p && Conv(p, Primary))
        {
            var syncStandbys = ctx.HealthySyncStandbys(ctx.Others(p)).ToList();
            if (ctx.State.Settings.NumberSyncStandbys > 0 && syncStandbys.Any(s => s.NodeId == nodeId)
                && syncStandbys.Count <= ctx.State.Settings.NumberSyncStandbys)
                ctx.Note($"warning: writes will block while {node.Label} is in maintenance (number_sync_standbys = {ctx.State.Settings.NumberSyncStandbys})");
            if (ctx.State.Settings.NumberSyncStandbys == 0 && syncStandbys.Count == 1 && syncStandbys[0].NodeId == nodeId)
            {
                ctx.Assign(p.NodeId, WaitPrimary, "API-START-MAINTENANCE", $"{node.Label}, the last sync standby, goes to maintenance");
                ctx.Assign(nodeId, WaitMaintenance, "API-START-MAINTENANCE", "operator enabled maintenance");
            }
            else
            {
                ctx.Assign(nodeId, Maintenance, "API-START-MAINTENANCE", "operator enabled maintenance");
            }
            return ctx.ToDecision();
        }
        return Refuse($"cannot start maintenance on {node.Label}: it is in state {DecisionContext.Display(node.ReportedState)}; " +
                      "expected a converged primary, or a secondary or catchingup standby of a converged primary");
    }

    private static Decision StopMaintenance(DecisionContext ctx, long nodeId)
    {
        if (ctx.State.Find(nodeId) is not { } node || node.GoalState == Dropped) return Unknown(nodeId);
        if (!Conv(node, Maintenance, PrepareMaintenance))
            return Refuse($"cannot stop maintenance on {node.Label}: it is in state {DecisionContext.Display(node.ReportedState)}, not maintenance");
        if (ctx.N == 1)
        {
            new RuleContext(ctx, nodeId).Run(SingleNodeTable);
            return ctx.ToDecision();
        }
        if (ctx.Primary is null || ctx.Primary.NodeId == nodeId)
        {
            // Upstream refuses with N = 2 (and for prepare_maintenance); joining an election instead lets the
            // node that holds the data come back when the other node has none (found by the property walks;
            // the election guards still apply).
            ctx.Assign(nodeId, ReportLsn, "API-STOP-MAINTENANCE", "no primary: join the election");
        }
        else if (ctx.FailoverInProgress)
        {
            ctx.Assign(nodeId, ReportLsn, "API-STOP-MAINTENANCE", "a failover is in progress: join the election");
        }
        else
        {
            ctx.Assign(nodeId, CatchingUp, "API-STOP-MAINTENANCE", $"rejoin {ctx.Primary.Label}");
        }
        return ctx.ToDecision();
    }

    /// <summary>stop_maintenance with N = 1 runs the state machine, which leaves a converged maintenance node alone (GSM-3): skip GSM-3.</summary>
    private static readonly Rule[] SingleNodeTable = [.. GroupStateMachineRules.Table.Where(r => r.Id != "GSM-3")];
}

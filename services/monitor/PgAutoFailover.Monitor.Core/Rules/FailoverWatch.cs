using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>
/// FAILOVER-BLOCKED: after the state machine ran, says when a failover away from an unhealthy primary cannot happen
/// because of how the group is set up (every standby at candidate priority 0, or automatic failover paused), and says
/// again once it can. With the only standby at candidate priority 0 a
/// dead primary used to stay dead without a word (issue 13 defect 7); operators alert on this event.
/// Transient waits (a candidate that has not reported yet, a lease still running) are not blocks: they end by themselves.
/// </summary>
internal static class FailoverWatch
{
    public const string RuleId = "FAILOVER-BLOCKED";

    public static void Update(DecisionContext ctx)
    {
        var reason = BlockedReason(ctx);
        if (reason != ctx.State.FailoverBlockedReason) ctx.Emit(new FailoverBlockedChanged(reason, ctx.Now));
    }

    private static string? BlockedReason(DecisionContext ctx)
    {
        if (ctx.State.Failover is not null) return null;
        if (ctx.Primary is not { } primary || !DecisionContext.InPrimaryState(primary) || !ctx.Unhealthy(primary)) return null;
        if (!ctx.State.Settings.AutomaticFailover)
            return $"{primary.Label} is unhealthy and automatic failover is disabled for formation {ctx.State.Settings.Formation}: " +
                   "no failover will start by itself; run pgaf enable automatic-failover or pgaf perform failover, or restore the primary";
        var standbys = ctx.Others(primary).Where(n => n.ReportedState is not (NodeState.Init or NodeState.Maintenance)).ToList();
        if (standbys.Count == 0 || standbys.Any(n => n.CandidatePriority > 0)) return null;
        var names = string.Join(", ", standbys.Select(n => n.Label));
        return $"{primary.Label} is unhealthy and no failover will happen: every standby has candidate priority 0 ({names}); " +
               "set a candidate priority above 0 on one, or restore the primary";
    }
}

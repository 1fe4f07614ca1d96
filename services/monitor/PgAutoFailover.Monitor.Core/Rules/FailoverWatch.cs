using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>
/// FAILOVER-BLOCKED: after the state machine ran, says when a failover away from an unhealthy primary cannot happen
/// because of how the group is set up, and says again once it can. With the only standby at candidate priority 0 a
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
        var standbys = ctx.Others(primary).Where(n => n.ReportedState is not (NodeState.Init or NodeState.Maintenance)).ToList();
        if (standbys.Count == 0 || standbys.Any(n => n.CandidatePriority > 0)) return null;
        var names = string.Join(", ", standbys.Select(n => n.Label));
        return $"{primary.Label} is unhealthy and no failover will happen: every standby has candidate priority 0 ({names}); " +
               "set a candidate priority above 0 on one, or restore the primary";
    }
}

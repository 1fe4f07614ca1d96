using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>
/// One entry of a rule table, named after the spec rule it implements. Tables are evaluated in order and
/// the first rule whose <see cref="When"/> holds runs <see cref="Then"/>; evaluation stops unless
/// <see cref="Then"/> returns false ("continue", as GSM-8c does when the election decided nothing).
/// </summary>
internal sealed record Rule(string Id, string Summary, Func<RuleContext, bool> When, Func<RuleContext, bool> Then);

/// <summary>Rule evaluation for an active node A (the node that reported, or that an API call runs the state machine for).</summary>
internal sealed class RuleContext(DecisionContext ctx, long activeNodeId)
{
    public DecisionContext Ctx { get; } = ctx;
    public long ActiveNodeId { get; } = activeNodeId;

    /// <summary>A, re-read from the current state (earlier rules may have changed it).</summary>
    public MonitorNode A => Ctx.Node(ActiveNodeId);
    /// <summary>P = Primary(G).</summary>
    public MonitorNode? P => Ctx.Primary;
    /// <summary>N = number of nodes in the group.</summary>
    public int N => Ctx.N;
    public MonitorOptions Options => Ctx.Options;

    /// <summary>P holds a writable goal and is not unhealthy: it serves writes, so nobody may be promoted over it.</summary>
    public bool PrimaryStillServing => P is { } p && States.IsWritable(p.GoalState) && !Ctx.Unhealthy(p);

    /// <summary>
    /// Standbys may start or resume streaming from P: P exists and is not the primary a failover is moving
    /// away from. Once an election decided, a standby streaming from the old primary could acknowledge
    /// commits the candidate lacks (safety rule 4, docs/architecture.md#safety-rules), and would keep the old primary alive past its lease.
    /// </summary>
    public bool FollowablePrimary => P is { } p && !(Ctx.State.Failover is { OldPrimaryId: { } old } && old == p.NodeId);
    public int NumberSyncStandbys => Ctx.State.Settings.NumberSyncStandbys;

    public static bool Conv(MonitorNode? x, params NodeState[] states) =>
        x is not null && x.ReportedState == x.GoalState && states.Contains(x.GoalState);

    public bool Assign(MonitorNode node, NodeState goal, string rule, string reason) =>
        Ctx.Assign(node.NodeId, goal, rule, reason);

    /// <summary>
    /// Assigns a demotion goal the node's keeper can reach from its reported state: <paramref name="preferred"/>
    /// (draining, demote_timeout) when there is a keeper edge, else demoted (reachable from every primary state).
    /// </summary>
    public bool AssignDemotion(MonitorNode node, NodeState preferred, string rule, string reason) =>
        Assign(node, States.KeeperCanReach(node.ReportedState, preferred) ? preferred : NodeState.Demoted, rule, reason);

    /// <summary>Runs a table for this context; returns the id of the rule that stopped evaluation, or null.</summary>
    public string? Run(IReadOnlyList<Rule> table)
    {
        foreach (var rule in table)
        {
            if (!Ctx.State.AllNodes.ContainsKey(ActiveNodeId)) return null; // A was removed (GSM-1)
            if (rule.When(this) && rule.Then(this)) return rule.Id;
        }
        return null;
    }
}

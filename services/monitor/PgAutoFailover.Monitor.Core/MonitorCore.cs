using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;
using PgAutoFailover.Monitor.Core.Rules;

namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// The monitor's pure decision function: <c>(group, trigger, now) → decision</c>. No I/O, no clock: the
/// service passes <c>now</c>, appends <see cref="Decision.Events"/> to the group's stream, folds them into
/// its state with <see cref="GroupProjection.Apply"/>, replies and publishes. Never throws: bad input and
/// internal errors come back as a <see cref="Refusal"/>.
/// </summary>
public sealed class MonitorCore(MonitorOptions? options = null)
{
    /// <summary>Options in force.</summary>
    public MonitorOptions Options { get; } = options ?? MonitorOptions.Default;

    /// <summary>Decides what a trigger changes in a group.</summary>
    public Decision Decide(GroupState group, Trigger trigger, DateTimeOffset now)
    {
        try
        {
            var ctx = new DecisionContext(group, Options, now);
            return trigger switch
            {
                RegisterTrigger r => RegistrationRules.Register(ctx, r),
                ReportTrigger r => Report(ctx, r),
                ProbeTrigger p => Probe(ctx, p),
                TimerTrigger => Timer(ctx),
                OperatorTrigger o => OperatorRules.Execute(ctx, o),
                _ => Decision.Refused(new Refusal(RefusalKind.InternalError, $"unknown trigger {trigger.GetType().Name}")),
            };
        }
        catch (Exception e) // the contract: nothing escapes the core; a refused decision changes nothing
        {
            return Decision.Refused(new Refusal(RefusalKind.InternalError, $"{e.GetType().Name}: {e.Message}"));
        }
    }

    /// <summary>
    /// The reply to a keeper (docs/architecture.md#messages / <see cref="NodeGoal"/>) from the state after the decision was
    /// applied: goal, priority, quorum, synchronous_standby_names for a writable goal, the primary to
    /// follow, the fast_forward source, the lease granted by this decision (if any), and the ids of the
    /// group's current nodes (goal not dropped) with their hosts, for the primary to drop slots of removed nodes and
    /// every node to admit the others in pg_hba.conf.
    /// </summary>
    public static NodeGoal? GoalFor(GroupState group, long nodeId, Decision? decision = null)
    {
        if (group.Find(nodeId) is not { } node) return null;
        var lease = decision?.Events.OfType<LeaseGranted>().LastOrDefault(l => l.NodeId == nodeId);
        var primary = group.Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState) && n.NodeId != nodeId);
        MonitorNode? upstream = null;
        if (node.GoalState == NodeState.FastForward)
            upstream = group.Nodes.Where(n => n.NodeId != nodeId && States.ServesWal(n.ReportedState) && n.PgIsRunning)
                .OrderByDescending(n => n.Timeline).ThenByDescending(n => n.Lsn)
                .ThenBy(n => n.Health == NodeHealth.Good ? 0 : 1).FirstOrDefault();
        return new NodeGoal(
            group.Settings.Formation, group.Settings.GroupId, nodeId, node.GoalState, node.CandidatePriority, node.ReplicationQuorum,
            States.IsWritable(node.GoalState) ? SyncStandbyNames.Compute(group) : "",
            primary is null ? null : Address(group, primary),
            lease is null ? null : new PrimaryLease(lease.Duration, lease.ReportSequence),
            upstream is null ? null : Address(group, upstream),
            upstream?.Lsn ?? 0,
            [.. group.Nodes.Select(n => n.NodeId)],
            [.. group.Nodes.Select(n => n.Host).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
    }

    /// <summary>Rows for show state / topology snapshots (docs/operations.md), ordered by node id.</summary>
    public static IReadOnlyList<NodeSnapshot> Snapshot(GroupState group) =>
    [
        .. group.AllNodes.Values.Select(n => new NodeSnapshot(
            Address(group, n), n.ReportedState, n.GoalState, n.Health, n.Timeline, n.Lsn,
            n.CandidatePriority, n.ReplicationQuorum, n.PgIsRunning, n.LastReportAt, n.LastError, n.Progress)),
    ];

    /// <summary>Contract address of a node.</summary>
    public static NodeAddress Address(GroupState group, MonitorNode n) =>
        new(group.Settings.Formation, group.Settings.GroupId, n.NodeId, n.Name, n.Host, n.Port);

    /// <summary>Ids of every rule the core implements, in table order, for documentation and tests.</summary>
    public static IReadOnlyList<string> RuleIds =>
    [
        .. RegistrationRules.RuleIds,
        .. GroupStateMachineRules.Table.Select(r => r.Id),
        .. PrimaryRules.Table.Select(r => r.Id),
        .. Election.StepIds,
        .. OperatorRules.RuleIds,
        FailoverWatch.RuleId,
        "PROMOTION-ASSIGNED", // refinement of the BeingPromoted predicate (DecisionContext.PromotionAssigned)
    ];

    // ---- keeper report (docs/architecture.md#messages) ----------------------------------------------------------------

    private static Decision Report(DecisionContext ctx, ReportTrigger r)
    {
        if (ctx.State.Find(r.NodeId) is not { } node)
            return Refuse(RefusalKind.UnknownNode, $"node {r.NodeId} is not registered in this group (it may have been removed)");
        if (ReportOrder.Check(node, r.Epoch, r.Sequence) is { } stale)
            return Refuse(RefusalKind.StaleReport, $"report {ReportOrder.Label(r.Epoch, r.Sequence)} from {node.Label} {stale}");
        if (ImpossibleReport(node, r.CurrentState) is { } why)
            return Refuse(RefusalKind.ImpossibleState, $"{node.Label} reported {DecisionContext.Display(r.CurrentState)}: {why}");

        var changed = r.CurrentState != node.ReportedState || r.PgIsRunning != node.PgIsRunning;
        var streamingChanged = NodeReported.SaysStreaming(r.CurrentState, r.ReplicationState) != node.ReportedStreaming;
        ctx.Emit(new NodeReported(r.NodeId, r.CurrentState, r.PgIsRunning, r.Timeline, r.Lsn, r.ReplicationState,
            r.SyncStandbyReplyAge, r.Sequence, changed, ctx.Now, r.LastError, r.Progress, r.Epoch, r.UnacknowledgedWalAge, streamingChanged));

        new RuleContext(ctx, r.NodeId).Run(GroupStateMachineRules.Table);
        // This node's new state may be what another node's rule waits for (the old primary confirming demote_timeout
        // lets the candidate take over; a secondary streaming again lets its primary turn sync back on, PRI-2c): the
        // group is decided again at once, as a timer tick would a moment later.
        var streamingFlipped = (r.ReplicationState == States.StandbyNotStreaming) != (node.ReplicationState == States.StandbyNotStreaming);
        if ((changed || streamingFlipped) && ctx.State.AllNodes.Count > 1) ctx.WakeAt(ctx.Now);

        if (ctx.State.Find(r.NodeId) is not null) Lease.Grant(ctx, r.NodeId, r.Sequence);
        FailoverWatch.Update(ctx);
        return ctx.ToDecision();
    }

    /// <summary>
    /// Reported states a keeper cannot be in: it never reports unknown, never goes back to init, reports
    /// dropped only when told, and never promotes itself (safety rule 1, docs/architecture.md#safety-rules): a writable state is only
    /// reachable for a node the monitor once gave a writable goal (its report of that state may arrive late,
    /// after the goal changed again).
    /// </summary>
    private static string? ImpossibleReport(MonitorNode node, NodeState reported)
    {
        if (reported == NodeState.Unknown) return "unknown is not a keeper state";
        if (reported == NodeState.Init && node.ReportedState != NodeState.Init) return "a registered node cannot return to init";
        if (reported == NodeState.Dropped && node.GoalState != NodeState.Dropped) return "it was not asked to drop";
        if (States.IsWritable(reported) && !node.EverAssignedWritable)
            return $"the monitor never assigned it a writable state (goal {DecisionContext.Display(node.GoalState)}); a keeper never promotes itself";
        return null;
    }

    // ---- probes (docs/states.md#health): they record health, they never run the state machine -----------------

    private Decision Probe(DecisionContext ctx, ProbeTrigger p)
    {
        if (ctx.State.Find(p.NodeId) is not { } node)
            return Refuse(RefusalKind.UnknownNode, $"probe of node {p.NodeId}, which is not registered in this group");
        // The checker's own count as well as this instance's: with several monitors each receives only its share of a
        // failing node's probes, and would otherwise need three of its own (up to nine in all) to call the node bad.
        var failures = p.Succeeded ? 0 : Math.Max(node.ConsecutiveProbeFailures + 1, p.CheckerConsecutiveFailures);
        ctx.Emit(new ProbeRecorded(p.NodeId, p.Succeeded, p.Error, failures, ctx.Now));
        if (p.Succeeded && node.Health != NodeHealth.Good)
            ctx.Emit(new NodeHealthMarked(p.NodeId, NodeHealth.Good, $"{node.Label} is marked as healthy by the monitor", ctx.Now));
        else if (!p.Succeeded && failures >= Options.ProbeFailuresBeforeUnhealthy && node.Health != NodeHealth.Bad)
            ctx.Emit(new NodeHealthMarked(p.NodeId, NodeHealth.Bad,
                $"{node.Label} is marked as unhealthy by the monitor after {failures} failed probes: {p.Error}", ctx.Now));
        return ctx.ToDecision();
    }

    // ---- timer: re-run the state machine for reporting nodes so timeouts act promptly ---------------

    private static Decision Timer(DecisionContext ctx)
    {
        foreach (var node in ctx.State.AllNodes.Values.ToList())
        {
            if (ctx.State.Find(node.NodeId) is { } current && ctx.Reporting(current))
                new RuleContext(ctx, node.NodeId).Run(GroupStateMachineRules.Table);
        }
        FailoverWatch.Update(ctx);
        return ctx.ToDecision();
    }

    private static Decision Refuse(RefusalKind kind, string reason) => Decision.Refused(new Refusal(kind, reason));
}

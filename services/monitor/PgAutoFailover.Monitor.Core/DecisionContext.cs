using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// Working copy of one decision: the state as it evolves (every emitted event is applied at once, so later
/// rules see earlier assignments, as in upstream's single transaction), the events, assignments and notices,
/// and the group predicates of docs/states.md#monitor-rules evaluated on the current state.
/// </summary>
internal sealed class DecisionContext(GroupState state, MonitorOptions options, DateTimeOffset now)
{
    private readonly List<IGroupEvent> _events = [];
    private readonly List<GoalAssignment> _assignments = [];
    private readonly List<string> _notices = [];

    public GroupState State { get; private set; } = state;
    public MonitorOptions Options { get; } = options;
    public DateTimeOffset Now { get; } = now;

    /// <summary>guard_data_loss for this decision ([main]; off for perform failover --allow-data-loss).</summary>
    public bool GuardDataLoss { get; set; } = state.Settings.GuardDataLoss;

    public IReadOnlyList<GoalAssignment> Assignments => _assignments;

    public Decision ToDecision() => new([.. _events], [.. _assignments], [.. _notices], null, _wakeAt);

    private DateTimeOffset? _wakeAt;

    /// <summary>
    /// The group may decide differently at <paramref name="at"/> (time alone changes it, or, at <see cref="Now"/>,
    /// other nodes' rules may act on what this decision changed): ask to be decided again then.
    /// </summary>
    public void WakeAt(DateTimeOffset at)
    {
        if (at >= Now && (_wakeAt is null || at < _wakeAt)) _wakeAt = at;
    }

    public void Emit(IGroupEvent e)
    {
        State = GroupProjection.Apply(State, e);
        _events.Add(e);
    }

    public void Note(string notice) => _notices.Add(notice);

    /// <summary>
    /// Assigns a goal ("Assign X to N"). No-op when the goal is unchanged. Enforces safety rule 2 (docs/architecture.md#safety-rules) as a last
    /// line of defence: a writable goal is never given while another node holds one or may still accept
    /// writes under its lease; a rule that tries is a bug, reported as an internal error and nothing changes.
    /// </summary>
    public bool Assign(long nodeId, NodeState goal, string rule, string reason)
    {
        var node = State[nodeId];
        if (node.GoalState == goal) return false;
        if (States.IsWritable(goal) && !States.IsWritable(node.GoalState))
        {
            if (State.Nodes.FirstOrDefault(n => n.NodeId != nodeId && States.IsWritable(n.GoalState)) is { } other)
                throw new SafetyViolation($"{rule} would give {node.Label} a writable goal while {other.Label} has goal {other.GoalState}");
            if (Lease.OtherWriterUntil(this, node) is { } until)
                throw new SafetyViolation($"{rule} would give {node.Label} a writable goal before {until:O}, when the old primary is provably fenced");
        }

        var promotion = States.IsWritable(goal) && !States.IsWritable(node.GoalState);
        var description = $"Setting goal state of {node.Label} to {Display(goal)}: {reason}";
        Emit(new GoalAssigned(nodeId, node.GoalState, goal, rule, description, Now));
        _assignments.Add(new GoalAssignment(nodeId, node.GoalState, goal, node.ReportedState, rule, description));

        if (promotion && State.Failover is { } failover)
            Emit(new FailoverEnded(failover.FailoverId, nodeId, Now));
        return true;
    }

    /// <summary>Records the start of a failover unless one is already under way.</summary>
    public void BeginFailover(MonitorNode? oldPrimary, string reason, bool planned)
    {
        if (State.Failover is null)
            Emit(new FailoverBegan(Guid.NewGuid(), oldPrimary?.NodeId, reason, planned, Now));
    }

    public static string Display(NodeState s) => NodeStateNames.Of(s);

    /// <summary>
    /// A failover may start by itself: automatic failover is on, or one is already under way (an operator's, or one
    /// that began before the pause: stopping it halfway would leave the group without a writer).
    /// </summary>
    public bool MayStartFailover => State.Settings.AutomaticFailover || State.Failover is not null;

    // ---- group view (docs/states.md#monitor-rules) -------------------------------------------------------------

    /// <summary>Nodes of the group (goal not dropped), by node id.</summary>
    public IReadOnlyList<MonitorNode> Nodes => State.Nodes;
    public int N => State.Nodes.Count;
    public MonitorNode Node(long id) => State[id];
    public IEnumerable<MonitorNode> Others(MonitorNode x) => Nodes.Where(n => n.NodeId != x.NodeId);

    public bool Healthy(MonitorNode? x) => HealthPredicates.IsHealthy(x, Options, Now);
    public bool Unhealthy(MonitorNode? x) => HealthPredicates.IsUnhealthy(x, State, Options, Now);
    public bool Reporting(MonitorNode x) => HealthPredicates.IsReporting(x, Options, Now);

    public static bool InPrimaryState(MonitorNode x) =>
        (x.ReportedState == x.GoalState && States.IsWritable(x.GoalState))
        || (x.GoalState is NodeState.Primary or NodeState.ApplySettings
            && x.ReportedState is NodeState.Primary or NodeState.ApplySettings);

    public static bool InMaintenance(MonitorNode x) => States.IsMaintenance(x.GoalState);

    public static bool BeingDemotedPrimary(MonitorNode x) =>
        States.IsPrimaryBelonging(x.ReportedState)
        && x.GoalState is NodeState.Draining or NodeState.DemoteTimeout or NodeState.PrepareMaintenance;

    public static bool DemotedPrimary(MonitorNode x) =>
        x.GoalState == NodeState.Demoted
        && (States.IsPrimaryBelonging(x.ReportedState) || x.ReportedState == NodeState.Demoted);

    public static bool BeingPromoted(MonitorNode x) => (x.ReportedState, x.GoalState) switch
    {
        (NodeState.ReportLsn, NodeState.FastForward or NodeState.PreparePromotion) => true,
        (NodeState.FastForward, NodeState.FastForward or NodeState.PreparePromotion) => true,
        (NodeState.PreparePromotion, NodeState.PreparePromotion or NodeState.StopReplication or NodeState.WaitPrimary) => true,
        (NodeState.StopReplication, NodeState.StopReplication or NodeState.WaitPrimary) => true,
        _ => false,
    };

    public static bool ReadyToStreamWal(MonitorNode c) => (c.ReportedState, c.GoalState) switch
    {
        (NodeState.PreparePromotion, NodeState.StopReplication or NodeState.WaitPrimary) => true,
        (NodeState.StopReplication, NodeState.StopReplication or NodeState.WaitPrimary) => true,
        (NodeState.WaitPrimary, NodeState.WaitPrimary or NodeState.Primary) => true,
        (NodeState.Primary, NodeState.Primary) => true,
        _ => false,
    };

    /// <summary>
    /// Refinement PROMOTION-ASSIGNED: a standby told prepare_promotion straight from secondary (perform
    /// failover/switchover or start maintenance with N = 2, GSM-17) whose keeper has not reported it yet. The
    /// spec's BeingPromoted lacks this pair; without it a draining old primary that reports twice before the
    /// candidate reports once sees "no promotion under way", goes report_lsn and wins an election over it.
    /// </summary>
    public static bool PromotionAssigned(MonitorNode x) =>
        x.ReportedState == NodeState.Secondary && x.GoalState == NodeState.PreparePromotion;

    /// <summary>Gone(X): the keeper is silent and the node is unhealthy (an elected node that died, EL-1).</summary>
    public bool Gone(MonitorNode x) => !Reporting(x) && Unhealthy(x);

    /// <summary>A promotion of X is under way: BeingPromoted(X), or PROMOTION-ASSIGNED and X is not gone.</summary>
    public bool PromotionUnderWay(MonitorNode x) => BeingPromoted(x) || (PromotionAssigned(x) && !Gone(x));

    public static bool ParticipatingInPromotion(MonitorNode x) =>
        BeingPromoted(x) || PromotionAssigned(x)
        || x.ReportedState is NodeState.ReportLsn or NodeState.JoinSecondary
        || x.GoalState is NodeState.ReportLsn or NodeState.JoinSecondary;

    public bool FailoverInProgress => Nodes.Any(ParticipatingInPromotion);

    /// <summary>
    /// Primary(G): the first node with a writable goal; else the last node whose reported state belongs to a
    /// primary, preferring one being demoted over one already demoted.
    /// </summary>
    public MonitorNode? Primary
    {
        get
        {
            if (Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState)) is { } writer) return writer;
            var demoting = Nodes.Where(n => States.IsPrimaryBelonging(n.ReportedState)).ToList();
            return demoting.LastOrDefault(BeingDemotedPrimary) ?? demoting.LastOrDefault();
        }
    }

    /// <summary>HealthyCandidates: priority &gt; 0, converged secondary, Healthy.</summary>
    public IEnumerable<MonitorNode> HealthyCandidates(IEnumerable<MonitorNode> nodes) =>
        nodes.Where(n => n.CandidatePriority > 0 && n.IsConverged(NodeState.Secondary) && Healthy(n));

    /// <summary>HealthySyncStandbys: replication quorum, converged secondary, Healthy.</summary>
    public IEnumerable<MonitorNode> HealthySyncStandbys(IEnumerable<MonitorNode> nodes) =>
        nodes.Where(n => n.ReplicationQuorum && n.IsConverged(NodeState.Secondary) && Healthy(n));

    /// <summary>DrainTimeExpired(X): goal demote_timeout for at least the demote timeout.</summary>
    public bool DrainTimeExpired(MonitorNode x) =>
        x.GoalState == NodeState.DemoteTimeout && Now - x.StateChangedAt >= Options.DemoteTimeout;
}

/// <summary>A rule tried to break one of the safety rules (docs/architecture.md#safety-rules); the decision is refused as an internal error.</summary>
internal sealed class SafetyViolation(string message) : Exception(message);

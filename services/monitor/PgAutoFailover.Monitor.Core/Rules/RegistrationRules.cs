using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>
/// docs/states.md#registration register_node. REG-1/REG-2 (formation lookup and kind) and host:port uniqueness across groups
/// are the service's: it routes the request to this group's stream. The checks run in order; the first
/// failing one refuses the registration.
/// </summary>
internal static class RegistrationRules
{
    public static readonly string[] RuleIds = ["REG-1", "REG-3", "REG-4", "REG-5", "REG-6", "REG-7", "REG-8", "REG-9", "REG-10", "REG-11"];

    public static Decision Register(DecisionContext ctx, RegisterTrigger r)
    {
        var settings = ctx.State.Settings;
        var nodes = ctx.Nodes;

        if (r.Formation is { } f && f != settings.Formation)
            return Refuse($"REG-1: formation \"{f}\" does not exist here (this group belongs to \"{settings.Formation}\"); create the formation first");
        if (r.GroupId is { } g && g != settings.GroupId)
            return Refuse($"REG-4: a pgsql formation has only group {settings.GroupId}, not group {g}");
        if (r.CandidatePriority is < 0 or > 100)
            return Refuse($"REG-8: candidate priority {r.CandidatePriority} is outside 0..100");
        if (r.InitialState is not (Init or NodeState.Single))
            return Refuse($"REG-10: a node registers in state init or single, not {DecisionContext.Display(r.InitialState)}");
        if (ctx.State.AllNodes.ContainsKey(r.NodeId))
            return Refuse($"REG-8: node id {r.NodeId} is already registered");
        if (NodeIdentity.AddressOwner(ctx.State, r.Host, r.Port) is not null)
            return Refuse($"REG-8: a node is already registered at {r.Host}:{r.Port}");
        var name = string.IsNullOrWhiteSpace(r.NodeName) ? $"node_{r.NodeId}" : r.NodeName;
        if (NodeIdentity.NameOwner(ctx.State, name) is not null)
            return Refuse($"REG-8: a node named \"{name}\" already exists in formation {settings.Formation}");
        if (r.SystemIdentifier is { } sysid && sysid != 0
            && ctx.State.AllNodes.Values.FirstOrDefault(n => n.SystemIdentifier is { } other && other != sysid) is { } mismatch)
            return Refuse($"REG-8: system identifier {sysid} differs from the group's ({mismatch.SystemIdentifier}, {mismatch.Label})");

        if (r.DatabaseName != settings.DatabaseName)
        {
            if (nodes.Count > 0)
                return Refuse($"REG-3: formation {settings.Formation} uses database \"{settings.DatabaseName}\", not \"{r.DatabaseName}\"");
            ctx.Emit(new DatabaseNameAdopted(r.DatabaseName, ctx.Now));
        }

        NodeState goal;
        string rule, reason;
        if (nodes.Count == 0 && r.CandidatePriority > 0)
        {
            if (Lease.OtherWriterUntil(ctx.State, new Model.MonitorNode { NodeId = r.NodeId, Name = name, Host = r.Host, Port = r.Port, StateChangedAt = ctx.Now }, ctx.Options, ctx.Now) is { } until)
                return Decision.Refused(new Refusal(RefusalKind.RegistrationRejected,
                    $"REG-5: a removed node may still accept writes {Lease.Until(ctx.State, ctx.Options, ctx.Now, until)}; retry registering after that", Retryable: true));
            (goal, rule, reason) = (NodeState.Single, "REG-5", "first node of the group");
        }
        else if (!settings.AllowSecondaries)
        {
            return Refuse($"REG-7: formation {settings.Formation} does not allow secondaries (pg_autoctl enable secondary)");
        }
        else if (nodes.Any(n => States.IsWritable(n.GoalState)) || nodes.Any(DecisionContext.BeingPromoted))
        {
            (goal, rule, reason) = (WaitStandby, "REG-6", "a primary exists: join as a standby");
        }
        else if (nodes.Any(n => n.CandidatePriority == 0 && n.IsConverged(ReportLsn)))
        {
            (goal, rule, reason) = (ReportLsn, "REG-6", "build from the standby waiting in report_lsn, then elect");
        }
        else
        {
            return Decision.Refused(new Refusal(RefusalKind.RegistrationRejected,
                "REG-6: couldn't find the primary node in this group; retry registering in a moment", Retryable: true));
        }

        if (r.InitialState != Init && r.InitialState != goal)
            return Refuse($"REG-10: node can not be registered in state {DecisionContext.Display(r.InitialState)}, it should be in state {DecisionContext.Display(goal)}");

        ctx.Emit(new NodeJoined(r.NodeId, name, r.Host, r.Port, r.SystemIdentifier is 0 ? null : r.SystemIdentifier,
            r.CandidatePriority, r.ReplicationQuorum, r.InitialState, ctx.Now));
        ctx.Assign(r.NodeId, goal, rule, reason);

        if (goal == WaitStandby && settings.NumberSyncStandbys == 0
            && ctx.Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState)) is { } primary
            && ctx.Others(primary).Count(n => n.ReplicationQuorum) == 2)
        {
            ctx.Emit(new NumberSyncStandbysChanged(1, "REG-9: a second quorum standby registered", ctx.Now));
        }

        // REG-11: run the group state machine for the new node.
        new RuleContext(ctx, r.NodeId).Run(GroupStateMachineRules.Table);
        return ctx.ToDecision();
    }

    private static Decision Refuse(string reason) =>
        Decision.Refused(new Refusal(RefusalKind.RegistrationRejected, reason));
}

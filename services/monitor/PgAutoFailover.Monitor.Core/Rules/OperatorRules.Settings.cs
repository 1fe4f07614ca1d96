using PgAutoFailover.Monitor.Core.Events;
using static PgAutoFailover.Contracts.NodeState;
using static PgAutoFailover.Monitor.Core.Rules.RuleContext;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>docs/states.md#operator-commands: the per-node and per-formation settings, and node metadata.</summary>
internal static partial class OperatorRules
{
    // ---- settings -----------------------------------------------------------------------------------

    private static Decision SetCandidatePriority(DecisionContext ctx, long nodeId, int priority)
    {
        if (ctx.State.Find(nodeId) is not { } node || node.GoalState == Dropped) return Unknown(nodeId);
        if (priority is < 0 or > 100) return Refuse($"candidate priority must be between 0 and 100, not {priority}");
        if (ApplySettingsBlocked(ctx) is { } blocked) return Refuse($"cannot set candidate priority of {node.Label}: {blocked}");
        if (priority == 0 && ctx.Others(node).All(o => o.CandidatePriority <= 0))
            ctx.Note("setting candidate priority 0 on every node prevents automated failover");
        ctx.Emit(new CandidatePriorityChanged(nodeId, priority,
            $"Operator set the candidate priority of {node.Label} from {node.CandidatePriority} to {priority}", ctx.Now));
        RefreshPrimarySettings(ctx, "API-SET-CANDIDATE-PRIORITY", $"candidate priority of {node.Label} changed");
        FailoverWatch.Update(ctx);
        return ctx.ToDecision();
    }

    private static Decision SetReplicationQuorum(DecisionContext ctx, long nodeId, bool quorum)
    {
        if (ctx.State.Find(nodeId) is not { } node || node.GoalState == Dropped) return Unknown(nodeId);
        if (ApplySettingsBlocked(ctx) is { } blocked) return Refuse($"cannot set replication quorum of {node.Label}: {blocked}");
        if (!quorum)
        {
            var primary = ctx.Primary;
            if (primary is null) return Refuse("can't set replication quorum to false: the group has no primary");
            var nss = ctx.State.Settings.NumberSyncStandbys;
            var remaining = ctx.Others(primary).Count(o => o.ReplicationQuorum && o.NodeId != nodeId);
            if (nss > 0 && nss + 1 > remaining)
                return Refuse($"can't set replication quorum to false: number_sync_standbys = {nss} needs {nss + 1} quorum standbys, {remaining} would remain");
        }
        ctx.Emit(new ReplicationQuorumChanged(nodeId, quorum, ctx.Now));
        RefreshPrimarySettings(ctx, "API-SET-REPLICATION-QUORUM", $"replication quorum of {node.Label} changed");
        return ctx.ToDecision();
    }

    /// <summary>
    /// API-SET-AUTOMATIC-FAILOVER: pause or resume failovers that start by themselves. Pausing never stops a failover
    /// already under way; resuming lets the next evaluation start one if the primary is still unhealthy.
    /// </summary>
    private static Decision SetAutomaticFailover(DecisionContext ctx, bool enabled)
    {
        var formation = ctx.State.Settings.Formation;
        if (ctx.State.Settings.AutomaticFailover == enabled)
        {
            ctx.Note($"automatic failover is already {(enabled ? "enabled" : "disabled")} for formation {formation}");
            return ctx.ToDecision();
        }
        ctx.Emit(new AutomaticFailoverChanged(enabled, enabled ? "operator enabled automatic failover" : "operator disabled automatic failover", ctx.Now));
        ctx.Note(enabled
            ? $"automatic failover enabled for formation {formation}"
            : $"automatic failover disabled for formation {formation}: no failover starts by itself until pgaf enable automatic-failover");
        if (!enabled && ctx.State.Failover is not null)
            ctx.Note($"automatic failover is disabled for formation {formation}; the failover under way finishes");
        if (enabled) ctx.WakeAt(ctx.Now); // an unhealthy primary is failed over at once, not at the next timer tick
        FailoverWatch.Update(ctx);
        return ctx.ToDecision();
    }

    private static Decision SetNumberSyncStandbys(DecisionContext ctx, int n)
    {
        if (n < 0) return Refuse("number_sync_standbys must be 0 or more");
        if (FailoverBlocks(ctx) is { } busy) return Refuse($"cannot set number_sync_standbys: {busy}");
        var primary = ctx.Primary;
        if (primary is null || !Conv(primary, Primary, WaitPrimary))
            return Refuse("cannot set number_sync_standbys: the primary must be in state primary or wait_primary");
        var quorum = ctx.Others(primary).Count(o => o.ReplicationQuorum);
        if (n > 0 && n + 1 > quorum)
            return Refuse($"cannot set number_sync_standbys to {n}: at least {n + 1} quorum standbys are required, the group has {quorum}");
        ctx.Emit(new NumberSyncStandbysChanged(n, "operator", ctx.Now));
        ctx.Assign(primary.NodeId, ApplySettings, "API-SET-NUMBER-SYNC-STANDBYS", $"number_sync_standbys is now {n}");
        return ctx.ToDecision();
    }

    private static string? ApplySettingsBlocked(DecisionContext ctx) =>
        ctx.N > 1 && ctx.Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState)) is { } p && Conv(p, ApplySettings)
            ? "current state for primary is apply_settings; retry in a moment"
            : null;

    /// <summary>Settings that re-target the primary wait while a failover is under way (its rules match on the primary's goal).</summary>
    private static string? FailoverBlocks(DecisionContext ctx) =>
        ctx.State.Failover is not null || ctx.Nodes.Any(DecisionContext.BeingPromoted)
            ? "a failover is in progress; retry once it completed"
            : null;

    /// <summary>A node with a writable goal re-reads synchronous_standby_names (apply_settings) when it can.</summary>
    private static void RefreshPrimarySettings(DecisionContext ctx, string rule, string reason)
    {
        if (ctx.N <= 1) return;
        // During a failover the primary's goal is left alone (the failover rules match on it); the new
        // primary computes synchronous_standby_names from the stored settings when it gets its goal.
        if (FailoverBlocks(ctx) is not null) return;
        if (ctx.Nodes.FirstOrDefault(n => States.IsWritable(n.GoalState)) is not { } p) return;
        // apply_settings has keeper edges only from primary and wait_primary.
        if (p.ReportedState is Primary or WaitPrimary && p.GoalState is Primary or WaitPrimary)
            ctx.Assign(p.NodeId, ApplySettings, rule, reason);
    }

    // ---- update_node_metadata ----------------------------------------------------------------------

    /// <summary>
    /// API-UPDATE-NODE-METADATA: rename or re-address a node. No goal changes: synchronous_standby_names names
    /// standbys by node id (<see cref="SyncStandbyNames.StandbyName"/>), so the primary has nothing to re-read, and
    /// standbys learn a moved primary's address from the goal in the reply to their next report. The event makes
    /// the service publish the new topology (health-checker probes, uri-service connection strings).
    /// </summary>
    private static Decision UpdateNodeMetadata(DecisionContext ctx, UpdateNodeMetadataCommand m)
    {
        if (ctx.State.Find(m.NodeId) is not { } node || node.GoalState == Dropped) return Unknown(m.NodeId);
        if (NodeIdentity.Invalid(m.Name, m.Host, m.Port) is { } invalid) return Refuse($"cannot update {node.Label}: {invalid}");
        var (name, host, port) = (m.Name ?? node.Name, m.Host ?? node.Host, m.Port ?? node.Port);
        if (name == node.Name && host == node.Host && port == node.Port)
        {
            ctx.Note($"{node.Label} already has this name, host and port: nothing changed");
            return ctx.ToDecision();
        }
        if (NodeIdentity.NameOwner(ctx.State, name, node.NodeId) is { } named)
            return Refuse($"cannot rename {node.Label}: node {named.NodeId} is already named \"{name}\" in formation {ctx.State.Settings.Formation}");
        if (NodeIdentity.AddressOwner(ctx.State, host, port, node.NodeId) is { } there)
            return Refuse($"cannot move {node.Label} to {host}:{port}: node {there.NodeId} \"{there.Name}\" is registered there");
        ctx.Emit(new NodeMetadataChanged(node.NodeId, name, host, port, node.Name, node.Host, node.Port, ctx.Now));
        ctx.Note($"{ctx.Node(node.NodeId).Label} updated (was \"{node.Name}\" ({node.Host}:{node.Port}))");
        return ctx.ToDecision();
    }
}

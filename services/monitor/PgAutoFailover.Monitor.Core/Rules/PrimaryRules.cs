using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;
using static PgAutoFailover.Contracts.NodeState;
using static PgAutoFailover.Monitor.Core.Rules.RuleContext;

namespace PgAutoFailover.Monitor.Core.Rules;

/// <summary>docs/states.md#rules-for-a-node-in-a-primary-state-generated: rules for A in a primary state (run from GSM-6 and GSM-31). Ordered, first match wins.</summary>
internal static class PrimaryRules
{
    public static readonly Rule[] Table =
    [
        new("PRI-1", "A converged single and a node converged wait_standby: wait_primary",
            c => Conv(c.A, NodeState.Single) && c.Ctx.Others(c.A).Any(o => Conv(o, WaitStandby)),
            c => c.Assign(c.A, WaitPrimary, "PRI-1", "a standby is joining") || true),

        new("SYNC-ACK-STALL", "A converged primary, healthy, its WAL flushed by no standby for sync_ack_timeout: quorum secondaries catchingup, A wait_primary (only with number_sync_standbys = 0)",
            c => Conv(c.A, Primary) && c.Ctx.Healthy(c.A) && c.NumberSyncStandbys == 0 && AcknowledgementsStalled(c.A, c.Options)
                 && c.Ctx.Others(c.A).Any(o => o.GoalState == Secondary && o.ReplicationQuorum),
            SyncAckStall),

        new("MAIN-REPLICATION-STALL", "A converged primary, healthy, no standby connected for replication_stall_timeout: wait_primary (only with number_sync_standbys = 0)",
            c => Conv(c.A, Primary) && c.Ctx.Healthy(c.A) && c.NumberSyncStandbys == 0
                 && c.A.ReplicationStallSince is { } since && c.Ctx.Now - since >= c.Options.ReplicationStallTimeout,
            c => c.Assign(c.A, WaitPrimary, "MAIN-REPLICATION-STALL",
                $"no standby has been connected for {c.Options.ReplicationStallTimeout.TotalSeconds:0.#} s; commits stop waiting") || true),

        new("PRI-2", "A converged primary, wait_primary or apply_settings: demote unhealthy secondaries, then PRI-2a..d",
            c => Conv(c.A, Primary, WaitPrimary, ApplySettings),
            Pri2),

        new("PRI-3", "A converged join_primary: primary",
            c => Conv(c.A, JoinPrimary),
            c => c.Assign(c.A, Primary, "PRI-3", "join_primary is kept for compatibility only") || true),
    ];

    /// <summary>A primary's last report said its oldest WAL had waited at least sync_ack_timeout for a standby's flush.</summary>
    public static bool AcknowledgementsStalled(MonitorNode? primary, MonitorOptions o) =>
        primary?.UnacknowledgedWalAge is { } age && age >= o.SyncAckTimeout;

    // Every quorum secondary stops being a candidate in the same decision that lets the primary commit without them:
    // a failover never picks a standby that may lack a write acknowledged after this. They come back through GSM-16,
    // which asks for the primary's WAL to be acknowledged again.
    private static bool SyncAckStall(RuleContext c)
    {
        var waited = c.A.UnacknowledgedWalAge!.Value.TotalSeconds;
        foreach (var o in c.Ctx.Others(c.A).Where(o => o.GoalState == Secondary && o.ReplicationQuorum).ToList())
            c.Assign(o, CatchingUp, "SYNC-ACK-STALL", $"no standby has flushed {c.A.Label}'s WAL for {waited:0.0} s: no longer a candidate nor counted for sync");
        c.Assign(c.A, WaitPrimary, "SYNC-ACK-STALL", $"commits waited {waited:0.0} s for a standby: disable synchronous replication so writes continue");
        return true;
    }

    private static bool Pri2(RuleContext c)
    {
        // Secondary demotion fan-out, always first.
        foreach (var o in c.Ctx.Others(c.A).ToList())
        {
            if (o.GoalState == Secondary && o.ReportedState is not (ReportLsn or JoinSecondary) && c.Ctx.Unhealthy(o))
                c.Assign(o, CatchingUp, "PRI-2", $"{o.Label} is unhealthy: no longer a candidate nor counted for sync");
        }

        var others = c.Ctx.Others(c.A).ToList();
        var quorumCount = others.Count(o => o.ReplicationQuorum);
        var secondaryCount = others.Count(o => o.IsConverged(Secondary));
        var secondaryQuorumCount = others.Count(o => o.IsConverged(Secondary) && o.ReplicationQuorum);

        if (quorumCount == 0)
        {
            var target = secondaryCount == 0 ? WaitPrimary : Primary;
            c.Assign(c.A, target, "PRI-2a", secondaryCount == 0 ? "no secondary" : "every standby is async");
            return true;
        }

        if (!Conv(c.A, WaitPrimary) && secondaryQuorumCount == 0)
        {
            var target = c.NumberSyncStandbys == 0 ? WaitPrimary : Primary;
            if (c.A.GoalState != target)
            {
                c.Assign(c.A, target, "PRI-2b", target == WaitPrimary
                    ? "no quorum secondary left: disable synchronous replication so writes continue"
                    : "no quorum secondary left: number_sync_standbys > 0, writes wait for a standby");
                return true;
            }
        }

        // Sync comes back only for a secondary whose WAL receiver streams (GSM-16 has the same refinement): one that
        // has not reconnected yet would hold every commit until it does.
        if (Conv(c.A, WaitPrimary) && others.Any(o => o.IsConverged(Secondary) && o.ReplicationQuorum && o.ReplicationState != States.StandbyNotStreaming))
        {
            c.Assign(c.A, Primary, "PRI-2c", "a quorum secondary is ready: enable synchronous replication");
            return true;
        }

        if (Conv(c.A, ApplySettings))
        {
            var target = c.NumberSyncStandbys == 0 && secondaryQuorumCount == 0 ? WaitPrimary : Primary;
            c.Assign(c.A, target, "PRI-2d", "settings applied");
        }
        return true;
    }
}

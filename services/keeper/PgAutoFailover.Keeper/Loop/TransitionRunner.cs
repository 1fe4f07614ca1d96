using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Actions;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>A step that cannot succeed yet (e.g. a standby has not caught up); retried next cycle, logged quietly.</summary>
public sealed class NotYetException(string message) : Exception(message);

/// <summary>
/// Runs a transition's plan (docs/states.md#keeper-transitions): each <see cref="KeeperAction"/> by its handler in
/// <c>Actions/</c>, in order. Every action is idempotent: a transition interrupted at any point (crash, error) is simply
/// run again.
/// </summary>
public sealed class TransitionRunner(
    PrimaryActions primary, CloneActions clones, StandbyActions standby, PgSettings settings, PostgresServer server, PgSql sql)
{
    /// <summary>Runs the plan; returns the system identifier of a data directory it made (initdb, base backup), else null.</summary>
    public async Task<ulong?> RunAsync(Transition transition, KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        ulong? systemIdentifier = null;
        foreach (var action in transition.Plan)
        {
            systemIdentifier = await RunActionAsync(action, transition.To, state, goal, ct) ?? systemIdentifier;
        }
        return systemIdentifier;
    }

    private async Task<ulong?> RunActionAsync(KeeperAction action, NodeState to, KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        switch (action)
        {
            case KeeperAction.InitPrimary: return await primary.InitPrimaryAsync(state, ct);
            case KeeperAction.InitStandby: return await clones.InitStandbyAsync(state, goal, ct);
            case KeeperAction.InitFromStandby: return await clones.InitFromStandbyAsync(state, goal, ct);
            case KeeperAction.RewindOrInit: return await clones.RewindOrInitAsync(state, goal, ct);
        }
        await (action switch
        {
            KeeperAction.DisableReplication or KeeperAction.ResumeAsPrimary => primary.ResumeAsPrimaryAsync(ct),
            KeeperAction.PrepareReplication or KeeperAction.PrepareStandbyForPromotion or KeeperAction.StartMaintenanceOnStandby => Task.CompletedTask,
            KeeperAction.DisableSyncRep => settings.SetSyncStandbyNamesAsync("", ct),
            KeeperAction.EnableSyncRep => primary.EnableSyncRepAsync(goal, ct),
            KeeperAction.StartPostgresAndApplySettings => primary.StartAndApplySettingsAsync(goal, ct),
            KeeperAction.StopPostgres or KeeperAction.DropNode => server.StopAsync(ct),
            KeeperAction.CheckpointAndStopPostgres => primary.CheckpointAndStopAsync(ct),
            KeeperAction.FollowNewPrimary => standby.FollowNewPrimaryAsync(to, state, goal, ct),
            KeeperAction.PrepareForSecondary => standby.TimelineCheckAsync(goal, ct),
            KeeperAction.StopReplication => primary.StopReplicationAsync(ct),
            KeeperAction.PromoteStandby => primary.PromoteAsync(readOnly: false, ct),
            KeeperAction.ResumeWrites => primary.ResumeWritesAsync(ct),
            KeeperAction.StopPostgresAndSetupStandby => standby.StopAndSetupStandbyAsync(state, ct),
            KeeperAction.ReportLsn => standby.ReportLsnAsync(state, ct),
            KeeperAction.DropAllSlots => sql.DropAllSlotsAsync(ct),
            KeeperAction.FastForward => standby.FastForwardAsync(state, goal, ct),
            KeeperAction.CleanupAsPrimary => settings.SetConfAsync(new() { ["recovery_target_lsn"] = null, ["recovery_target_inclusive"] = null, ["recovery_target_action"] = null }, ct),
            _ => throw new KeeperException($"action {action} is not implemented"),
        });
        return null;
    }
}

using System.Diagnostics;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Actions;

/// <summary>The actions on a standby that keeps its data: follow a new primary, check the timeline, freeze for an election, fast-forward.</summary>
public sealed class StandbyActions(KeeperOptions options, PostgresServer server, PgSql sql, PgSettings settings, StandbySetup standby, Secrets secrets,
    StepProgress progress)
{
    public async Task FollowNewPrimaryAsync(NodeState to, KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var primary = StandbySetup.PrimaryOf(goal);
        await UpstreamSql.EnsureSlotOnUpstreamAsync(primary, secrets.Replication, PgSql.SlotName(state.NodeId), ct);
        var conninfo = standby.Conninfo(primary, state.NodeId);
        var unchanged = server.Files.ReadAutoConf("primary_conninfo") == conninfo && server.Files.HasStandbySignal
                        && server.Files.ReadAutoConf("recovery_target_lsn") is null;
        standby.ConfigureStandby(primary, state.NodeId, useSlot: true);
        if (unchanged) await settings.EnsureRunningAsync(ct);
        else await server.RestartAsync(ct);
        if (to == NodeState.Secondary) await TimelineCheckAsync(goal, ct);
    }

    /// <summary>Succeeds only when the WAL receiver streams from the primary on the primary's timeline.</summary>
    public async Task TimelineCheckAsync(NodeGoal? goal, CancellationToken ct)
    {
        var primary = StandbySetup.PrimaryOf(goal);
        await settings.EnsureRunningAsync(ct);
        var upstream = await UpstreamSql.UpstreamTimelineAsync(primary, secrets.Replication, ct);
        var local = await sql.ObserveAsync(ct);
        if (local.WalReceiverStatus != "streaming" || local.ReceivedTimeline == 0)
        {
            throw new NotYetException($"the WAL receiver is not streaming yet ({local.WalReceiverStatus ?? "none"})");
        }
        if (local.ReceivedTimeline > upstream)
        {
            throw new KeeperException($"local timeline {local.ReceivedTimeline} is ahead of the primary's {upstream}");
        }
        if (local.ReceivedTimeline < upstream) throw new NotYetException($"still on timeline {local.ReceivedTimeline}, primary on {upstream}");
    }

    public async Task StopAndSetupStandbyAsync(KeeperState state, CancellationToken ct)
    {
        await server.StopAsync(ct);
        standby.ConfigureStandby(null, state.NodeId, useSlot: false);
    }

    public async Task ReportLsnAsync(KeeperState state, CancellationToken ct)
    {
        standby.ConfigureStandby(null, state.NodeId, useSlot: false);
        await server.RestartAsync(ct);
    }

    public async Task FastForwardAsync(KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var upstream = goal?.UpstreamNode ?? throw new NotYetException("the monitor has not named the most advanced standby yet");
        var target = goal.TargetLsn;
        standby.ConfigureStandby(upstream, state.NodeId, useSlot: false, recoveryTargetLsn: target == 0 ? null : target);
        await server.RestartAsync(ct);
        var watch = Stopwatch.StartNew();
        using var step = progress.Begin($"fast_forward from node {upstream.NodeId} ({upstream.Host}:{upstream.Port}) to {StandbySetup.FormatLsn(target)}");
        while (target != 0 && await sql.ReplayLsnAsync(ct) is var replayed && replayed < target)
        {
            if (watch.Elapsed > options.CloneTimeout) throw new KeeperException($"fast_forward did not reach {StandbySetup.FormatLsn(target)}");
            progress.Detail($"replayed up to {StandbySetup.FormatLsn(replayed)}");
            await Task.Delay(200, ct);
        }
        await sql.CheckpointAsync(ct);
    }
}

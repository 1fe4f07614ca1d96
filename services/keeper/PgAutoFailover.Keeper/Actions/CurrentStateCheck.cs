using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Actions;

/// <summary>
/// "Ensure current state" (docs/states.md#keeper-transitions): what a converged keeper checks on every loop. PostgreSQL
/// running or stopped as the state wants, a standby following a re-addressed primary, a primary's sync names,
/// writability and the slots of removed nodes.
/// </summary>
/// <remarks>Kept between checks: the slots of removed nodes seen stale, and under which goal (a slot is dropped only
/// once two newer goals saw it stale).</remarks>
public sealed partial class CurrentStateCheck(PostgresServer server, PgSql sql, PgSettings settings, StandbySetup standby, Secrets secrets,
    ILogger<CurrentStateCheck> logger)
{
    /// <summary>Slots of removed nodes by name: the goal in hand when last seen stale, and how many newer goals saw it so.</summary>
    private readonly Dictionary<string, (NodeGoal Goal, int NewerGoals)> _staleSlots = [];

    public async Task EnsureAsync(NodeState current, NodeGoal? goal, CancellationToken ct)
    {
        if (KeeperStates.IsWritable(current))
        {
            await settings.EnsureRunningAsync(ct);
            if (await sql.InRecoveryAsync(ct)) throw new KeeperException($"state {KeeperStates.Name(current)} but PostgreSQL is in recovery");
            var names = current is NodeState.Primary or NodeState.ApplySettings or NodeState.JoinPrimary ? goal?.SynchronousStandbyNames ?? "" : "";
            await settings.SetSyncStandbyNamesAsync(names, ct);
            if (await sql.ShowAsync("default_transaction_read_only", ct) != "off") await settings.SetWritableAsync(true, ct);
            if (goal is { GroupNodeIds: { } groupNodeIds } && KeeperStates.IsWritable(goal.GoalState))
                await DropSlotsOfRemovedNodesAsync(goal, groupNodeIds, ct);
        }
        else if (current is NodeState.PreparePromotion or NodeState.StopReplication)
        {
            await settings.EnsureRunningAsync(ct);
        }
        else if (KeeperStates.MustRunAsStandby(current))
        {
            if (!server.IsPostmasterAlive())
            {
                server.Files.SetStandbySignal(true); // never start a standby's data directory as a primary
                await server.StartAsync(ct);
            }
            else if (current is NodeState.Secondary or NodeState.CatchingUp && goal?.Primary is { } primary)
            {
                await FollowMovedPrimaryAsync(primary, goal.NodeId, ct);
            }
        }
        else if (KeeperStates.MustBeStopped(current))
        {
            if (server.IsPostmasterAlive())
            {
                Log.StoppingPostgresOfStoppedState(logger, KeeperStates.Name(current));
                await server.StopAsync(ct);
            }
        }
    }

    /// <summary>
    /// A converged standby whose goal names the primary at another address than primary_conninfo (the primary was
    /// re-addressed with update_node_metadata: none of this node's goals changed) follows it there. The slot is
    /// ensured first, which also proves the primary answers at the new address: until the operator restarted it
    /// there, the standby goes on streaming from the old one. PostgreSQL 13+ restarts the WAL receiver when a
    /// reload changes primary_conninfo, so PostgreSQL is not restarted.
    /// </summary>
    private async Task FollowMovedPrimaryAsync(NodeAddress primary, long nodeId, CancellationToken ct)
    {
        var conninfo = standby.Conninfo(primary, nodeId);
        if (server.Files.ReadAutoConf("primary_conninfo") is not { } current || current == conninfo) return;
        try
        {
            await UpstreamSql.EnsureSlotOnUpstreamAsync(primary, secrets.Replication, PgSql.SlotName(nodeId), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new NotYetException($"the primary, node {primary.NodeId}, is not reachable at its new address {primary.Host}:{primary.Port} yet " +
                                      $"(still streaming from the old one): {e.Message}");
        }
        standby.ConfigureStandby(primary, nodeId, useSlot: true);
        await sql.ExecuteAsync("SELECT pg_reload_conf()", ct);
        Log.FollowingMovedPrimary(logger, primary.NodeId, primary.Host, primary.Port);
    }

    /// <summary>
    /// A primary drops the inactive slots of nodes no longer in the group (null list: unknown, keep all). A slot is
    /// dropped only once it was found stale under two goals received after the one it was first found stale under:
    /// the list it is then checked against was computed after the slot existed, so the slot of a node registered
    /// after the goal in hand (which creates its slot before the primary hears of it) is not dropped.
    /// </summary>
    private async Task DropSlotsOfRemovedNodesAsync(NodeGoal goal, IReadOnlyList<long> groupNodeIds, CancellationToken ct)
    {
        var stale = await sql.SlotsOfRemovedNodesAsync(groupNodeIds, ct);
        foreach (var gone in _staleSlots.Keys.Except(stale).ToList()) _staleSlots.Remove(gone);
        var confirmed = new List<string>();
        foreach (var slot in stale)
        {
            if (!_staleSlots.TryGetValue(slot, out var seen)) _staleSlots[slot] = (goal, 0);
            else if (ReferenceEquals(seen.Goal, goal)) continue; // the same goal again: not a newer look
            else if (seen.NewerGoals >= 1) confirmed.Add(slot);   // this is the second newer goal
            else _staleSlots[slot] = (goal, seen.NewerGoals + 1);
        }
        if (confirmed.Count == 0) return;
        foreach (var slot in await sql.DropSlotsOfRemovedNodesAsync(groupNodeIds, confirmed, ct))
        {
            _staleSlots.Remove(slot);
            Log.SlotOfRemovedNodeDropped(logger, slot, string.Join(", ", groupNodeIds));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL runs in state {State}: stopping it")]
        public static partial void StoppingPostgresOfStoppedState(ILogger logger, string state);

        [LoggerMessage(Level = LogLevel.Information, Message = "The primary, node {PrimaryId}, moved to {Host}:{Port}: primary_conninfo now points there (reloaded)")]
        public static partial void FollowingMovedPrimary(ILogger logger, long primaryId, string host, int port);

        [LoggerMessage(Level = LogLevel.Information, Message = "Dropped replication slot {Slot}: its node is no longer in the group (nodes {GroupNodeIds})")]
        public static partial void SlotOfRemovedNodeDropped(ILogger logger, string slot, string groupNodeIds);
    }
}

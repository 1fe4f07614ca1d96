using System.Collections.Concurrent;
using MassTransit;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Testing;

/// <summary>
/// The operators' side: answers pgaf's requests the way the monitor does, from canned formations (<see cref="State"/>):
/// the formation "missing" does not exist, every failover is refused for want of a candidate, a switchover of a
/// "wait-…" formation plays one out, renames and pauses show in later state requests.
/// </summary>
public sealed partial class FakeMonitor
{
    public const string NoCandidate = "cannot fail over: no candidate node is healthy";
    public const string BusyProgress = "pg_basebackup from node 1 (localhost:5501): 45 MB / 120 MB (37 %), 3 s";
    public const string BusyError = "cannot reach localhost:5501 as pgautofailover_replicator for a base backup: connection refused";
    public static readonly DateTimeOffset EventTime = new(2026, 11, 25, 21, 0, 0, TimeSpan.Zero);

    /// <summary>Formations whose state changed after a command.</summary>
    private readonly ConcurrentDictionary<string, FormationState> _states = new();

    /// <summary>A node as <c>show state</c> lists it, at localhost.</summary>
    public static NodeSnapshot Snapshot(long id, string name, int port, NodeState reported, NodeState goal,
        NodeHealth health = NodeHealth.Good, int group = 0, ulong lsn = 0x4000678, string formation = "default") =>
        new(new NodeAddress(formation, group, id, name, "localhost", port), reported, goal, health, 1, lsn, 50, true, true, null);

    /// <summary>
    /// The canned state of a formation: node1 primary and node2 secondary; "busy" has a keeper cloning (progress) and
    /// one whose transition failed (last error).
    /// </summary>
    public static FormationState State(string formation) => formation == "busy"
        ? new(formation, "postgres", 1,
        [
            Snapshot(1, "node1", 5501, NodeState.Primary, NodeState.Primary, lsn: 0x3000060, formation: formation),
            Snapshot(2, "node2", 5502, NodeState.WaitStandby, NodeState.CatchingUp, lsn: 0, formation: formation) with { Progress = BusyProgress },
            Snapshot(3, "node3", 5503, NodeState.WaitStandby, NodeState.CatchingUp, lsn: 0, formation: formation) with { LastError = BusyError },
        ])
        : new(formation, "postgres", 1,
        [
            Snapshot(2, "node2", 5502, NodeState.Secondary, NodeState.Secondary, lsn: 0x3000060, formation: formation),
            Snapshot(1, "node1", 5501, NodeState.Primary, NodeState.Primary, lsn: 0x3000060, formation: formation),
        ]);

    private FormationState CurrentState(string formation) => _states.TryGetValue(formation, out var changed) ? changed : State(formation);

    private void ConfigureOperatorSide(IReceiveEndpointConfigurator endpoint)
    {
        endpoint.Handler<GetFormationState>(context =>
        {
            Received.Enqueue(context.Message);
            return context.Message.Formation == "missing"
                ? context.RespondAsync(new OperatorCommandRefused("missing", "formation \"missing\" does not exist"))
                : context.RespondAsync(CurrentState(context.Message.Formation));
        });
        endpoint.Handler<GetEvents>(context =>
        {
            Received.Enqueue(context.Message);
            var all = Enumerable.Range(1, 20).Select(i => new FormationEvent(i, EventTime.AddSeconds(i), context.Message.Formation, 0, 1, "node1",
                NodeState.Primary, NodeState.Primary, $"event number {i}")).ToList();
            return context.RespondAsync(new FormationEvents(context.Message.Formation, all.TakeLast(context.Message.Count).ToList()));
        });
        endpoint.Handler<GetSettings>(context =>
        {
            Received.Enqueue(context.Message);
            return context.RespondAsync(new FormationSettings(context.Message.Formation,
            [
                new NodeSetting("formation", context.Message.Formation, "number_sync_standbys", "1"),
                new NodeSetting("primary", "node1", "synchronous_standby_names", "'ANY 1 (pgautofailover_standby_2)'"),
                new NodeSetting("node", "node1", "candidate priority", "50"),
            ]));
        });
        endpoint.Handler<PerformFailover>(context =>
        {
            Received.Enqueue(context.Message);
            return context.RespondAsync(new OperatorCommandRefused(context.Message.Formation, NoCandidate));
        });
        endpoint.Handler<PerformSwitchover>(context =>
        {
            var formation = context.Message.Formation;
            if (formation.StartsWith("wait-", StringComparison.Ordinal)) PlaySwitchover(formation);
            return Succeed(context, formation, "switchover started in group 0");
        });
        endpoint.Handler<PerformPromotion>(context => Succeed(context, context.Message.Formation, $"promotion of {context.Message.NodeName ?? context.Message.NodeId.ToString()} started"));
        endpoint.Handler<CreateFormation>(context => Succeed(context, context.Message.Formation, $"formation {context.Message.Formation} created"));
        endpoint.Handler<DropFormation>(context => Succeed(context, context.Message.Formation, $"formation {context.Message.Formation} dropped"));
        endpoint.Handler<DropNode>(context => Succeed(context, context.Message.Formation, "node removed"));
        endpoint.Handler<EnableMaintenance>(context => Succeed(context, context.Message.Formation, $"node {context.Message.NodeId} goes to maintenance"));
        endpoint.Handler<DisableMaintenance>(context => Succeed(context, context.Message.Formation, $"node {context.Message.NodeId} leaves maintenance"));
        endpoint.Handler<SetCandidatePriority>(context => Succeed(context, context.Message.Formation, $"candidate priority of node {context.Message.NodeId} is now {context.Message.CandidatePriority}"));
        endpoint.Handler<SetReplicationQuorum>(context => Succeed(context, context.Message.Formation, $"replication quorum of node {context.Message.NodeId} is now {context.Message.ReplicationQuorum}"));
        endpoint.Handler<SetNumberSyncStandbys>(context => Succeed(context, context.Message.Formation, $"number_sync_standbys is now {context.Message.NumberSyncStandbys}"));
        endpoint.Handler<UpdateNodeMetadata>(OnUpdateMetadataAsync);
        endpoint.Handler<SetAutomaticFailover>(context =>
        {
            // Like the monitor: show state says so while it is paused.
            var m = context.Message;
            _states[m.Formation] = CurrentState(m.Formation) with { AutomaticFailover = m.Enabled };
            return Succeed(context, m.Formation, $"automatic failover {(m.Enabled ? "enabled" : "disabled")} for formation {m.Formation}");
        });
    }

    /// <summary>Like the monitor: a name another node of the formation has is refused; otherwise later requests see the change.</summary>
    private Task OnUpdateMetadataAsync(ConsumeContext<UpdateNodeMetadata> context)
    {
        var m = context.Message;
        string Refuse(long holder) => $"cannot rename node {m.NodeId}: node {holder} is already named \"{m.Name}\" in formation {m.Formation}";
        if (TryUpdateRegisteredNode(m, out var refusal, out var registered))
        {
            if (refusal is not null)
            {
                Received.Enqueue(m);
                return context.RespondAsync(new OperatorCommandRefused(m.Formation, refusal));
            }
            return Succeed(context, m.Formation, $"node {m.NodeId} \"{registered!.NodeName}\" ({registered.Host}:{registered.Port}) updated");
        }
        var before = CurrentState(m.Formation);
        if (m.Name is { } name && before.Nodes.FirstOrDefault(n => n.Node.NodeId != m.NodeId && n.Node.NodeName == name) is { } holder)
        {
            Received.Enqueue(m);
            return context.RespondAsync(new OperatorCommandRefused(m.Formation, Refuse(holder.Node.NodeId)));
        }
        _states[m.Formation] = before with
        {
            Nodes = [.. before.Nodes.Select(n => n.Node.NodeId != m.NodeId ? n : n with
            {
                Node = n.Node with { NodeName = m.Name ?? n.Node.NodeName, Host = m.Host ?? n.Node.Host, Port = m.Port ?? n.Node.Port },
            })],
        };
        var node = _states[m.Formation].Nodes.Single(n => n.Node.NodeId == m.NodeId).Node;
        return Succeed(context, m.Formation, $"node {m.NodeId} \"{node.NodeName}\" ({node.Host}:{node.Port}) updated");
    }

    /// <summary>node1 drains while node2 is prepared, then, a second later, node2 is the primary and node1 its secondary.</summary>
    private void PlaySwitchover(string formation)
    {
        _states[formation] = new FormationState(formation, "postgres", 1,
        [
            Snapshot(1, "node1", 5501, NodeState.Primary, NodeState.Draining, formation: formation),
            Snapshot(2, "node2", 5502, NodeState.Secondary, NodeState.PreparePromotion, formation: formation),
        ]);
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            _states[formation] = new FormationState(formation, "postgres", 1,
            [
                Snapshot(1, "node1", 5501, NodeState.Secondary, NodeState.Secondary, formation: formation),
                Snapshot(2, "node2", 5502, NodeState.Primary, NodeState.Primary, formation: formation),
            ]);
        });
    }
}

using System.Collections.Concurrent;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// The test plays the monitor: a real MassTransit bus on a real broker (the fixture's own virtual host)
/// answering the operator's requests the way the monitor does, and recording every request it received.
/// </summary>
public sealed class FakeMonitor : IAsyncLifetime
{
    public const string NoCandidate = "cannot fail over: no candidate node is healthy";

    private readonly RabbitMqFixture _broker = new();
    private IBusControl? _bus;

    public ConcurrentQueue<object> Received { get; } = new();

    /// <summary>Formations whose state changed after a command (a switchover of a "wait-…" formation plays one out).</summary>
    private readonly ConcurrentDictionary<string, FormationState> _states = new();

    public Uri AmqpUri => _broker.AmqpUri;

    /// <summary>A virtual host on the same broker where nothing answers.</summary>
    public Task<Uri> SilentVirtualHostAsync() => _broker.NewVirtualHostAsync();

    public static readonly DateTimeOffset EventTime = new(2026, 11, 25, 21, 0, 0, TimeSpan.Zero);

    public const string BusyProgress = "pg_basebackup from node 1 (localhost:5501): 45 MB / 120 MB (37 %), 3 s";
    public const string BusyError = "cannot reach localhost:5501 as pgautofailover_replicator for a base backup: connection refused";

    /// <summary>The "busy" formation has a keeper cloning (progress) and one whose transition failed (last error).</summary>
    public static FormationState State(string formation) => formation == "busy"
        ? new(formation, "postgres", 1,
        [
            StateViewTests.Node(1, "node1", 5501, NodeState.Primary, NodeState.Primary, lsn: 0x3000060, formation: formation),
            StateViewTests.Node(2, "node2", 5502, NodeState.WaitStandby, NodeState.CatchingUp, lsn: 0, formation: formation) with { Progress = BusyProgress },
            StateViewTests.Node(3, "node3", 5503, NodeState.WaitStandby, NodeState.CatchingUp, lsn: 0, formation: formation) with { LastError = BusyError },
        ])
        : new(formation, "postgres", 1,
    [
        StateViewTests.Node(2, "node2", 5502, NodeState.Secondary, NodeState.Secondary, lsn: 0x3000060, formation: formation),
        StateViewTests.Node(1, "node1", 5501, NodeState.Primary, NodeState.Primary, lsn: 0x3000060, formation: formation),
    ]);

    public async Task InitializeAsync()
    {
        await _broker.InitializeAsync();
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(_broker.AmqpUri);
            rabbit.ReceiveEndpoint("fake-monitor", endpoint =>
            {
                endpoint.Handler<GetFormationState>(context =>
                {
                    Received.Enqueue(context.Message);
                    return context.Message.Formation == "missing"
                        ? context.RespondAsync(new OperatorCommandRefused("missing", "formation \"missing\" does not exist"))
                        : context.RespondAsync(_states.TryGetValue(context.Message.Formation, out var changed) ? changed : State(context.Message.Formation));
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
                endpoint.Handler<UpdateNodeMetadata>(context =>
                {
                    var m = context.Message;
                    if (m.Name == "node1")
                    {
                        Received.Enqueue(m);
                        return context.RespondAsync(new OperatorCommandRefused(m.Formation, $"cannot rename node {m.NodeId}: node 1 is already named \"node1\" in formation {m.Formation}"));
                    }
                    // Like the monitor: show state lists the node with its new name and address afterwards.
                    var before = _states.TryGetValue(m.Formation, out var known) ? known : State(m.Formation);
                    _states[m.Formation] = before with
                    {
                        Nodes = [.. before.Nodes.Select(n => n.Node.NodeId != m.NodeId ? n : n with
                        {
                            Node = n.Node with { NodeName = m.Name ?? n.Node.NodeName, Host = m.Host ?? n.Node.Host, Port = m.Port ?? n.Node.Port },
                        })],
                    };
                    var node = _states[m.Formation].Nodes.Single(n => n.Node.NodeId == m.NodeId).Node;
                    return Succeed(context, m.Formation, $"node {m.NodeId} \"{node.NodeName}\" ({node.Host}:{node.Port}) updated");
                });
                endpoint.Handler<SetNumberSyncStandbys>(context => Succeed(context, context.Message.Formation, $"number_sync_standbys is now {context.Message.NumberSyncStandbys}"));
                endpoint.Handler<SetAutomaticFailover>(context =>
                {
                    // Like the monitor: show state says so while it is paused.
                    var m = context.Message;
                    _states[m.Formation] = (_states.TryGetValue(m.Formation, out var known) ? known : State(m.Formation)) with { AutomaticFailover = m.Enabled };
                    return Succeed(context, m.Formation, $"automatic failover {(m.Enabled ? "enabled" : "disabled")} for formation {m.Formation}");
                });
            });
        });
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _bus.StartAsync(start.Token);
    }

    /// <summary>node1 drains while node2 is prepared, then, a second later, node2 is the primary and node1 its secondary.</summary>
    private void PlaySwitchover(string formation)
    {
        _states[formation] = new FormationState(formation, "postgres", 1,
        [
            StateViewTests.Node(1, "node1", 5501, NodeState.Primary, NodeState.Draining, formation: formation),
            StateViewTests.Node(2, "node2", 5502, NodeState.Secondary, NodeState.PreparePromotion, formation: formation),
        ]);
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            _states[formation] = new FormationState(formation, "postgres", 1,
            [
                StateViewTests.Node(1, "node1", 5501, NodeState.Secondary, NodeState.Secondary, formation: formation),
                StateViewTests.Node(2, "node2", 5502, NodeState.Primary, NodeState.Primary, formation: formation),
            ]);
        });
    }

    private Task Succeed<T>(ConsumeContext<T> context, string formation, string message) where T : class
    {
        Received.Enqueue(context.Message);
        return context.RespondAsync(new OperatorCommandSucceeded(formation, message));
    }

    public IReadOnlyList<T> ReceivedOf<T>() => Received.OfType<T>().ToList();

    /// <summary>The environment pgaf sees: RABBITMQ_URL points at this fake monitor.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["RABBITMQ_URL"] = AmqpUri.ToString() };

    public async Task DisposeAsync()
    {
        if (_bus is not null) await _bus.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        await _broker.DisposeAsync();
    }
}

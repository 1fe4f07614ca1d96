using System.Collections.Concurrent;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Support;

/// <summary>
/// The test plays the monitor over the real broker: answers RegisterNode and ReportNodeState with
/// goals the test scripts, and pushes AssignGoalState to queue:keeper-node-{id}. It can stop
/// answering (a monitor that is down) without touching the keepers. Like the real monitor, it removes a
/// node that reports dropped when told to drop, and answers its later reports with "node unknown".
/// </summary>
public sealed class FakeMonitor : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly ConcurrentDictionary<long, NodeAddress> _nodes = new();
    private readonly ConcurrentDictionary<long, NodeState> _goals = new();
    private readonly ConcurrentDictionary<long, string> _syncNames = new();
    private readonly ConcurrentDictionary<long, (long Upstream, ulong TargetLsn)> _fastForward = new();
    private readonly ConcurrentDictionary<long, ReportNodeState> _reports = new();
    private readonly ConcurrentDictionary<long, ConcurrentQueue<ReportNodeState>> _history = new();
    private readonly ConcurrentDictionary<long, bool> _removed = new();
    private long _nextId;
    private long _groupVersion;

    public const string Formation = "test";
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(4);
    public volatile bool Answering = true;
    public long? PrimaryNodeId { get; set; }
    /// <summary>UTC moment of the last reply that carried a lease, per node.</summary>
    public ConcurrentDictionary<long, DateTime> LastLeaseReply { get; } = new();

    /// <summary>SetCandidatePriority / SetReplicationQuorum / UpdateNodeMetadata requests received (a keeper reloading its configuration).</summary>
    public ConcurrentQueue<object> SettingRequests { get; } = new();

    /// <summary>
    /// Whether goals carry <see cref="NodeGoal.GroupNodeIds"/> (the nodes with a goal other than dropped, plus
    /// <see cref="ExtraGroupNodeIds"/>) and their hosts; false plays a monitor older than the fields (null).
    /// </summary>
    public volatile bool ListGroupNodes;
    /// <summary>Ids listed as group members beside the registered nodes.</summary>
    public long[] ExtraGroupNodeIds { get; set; } = [];

    /// <summary>Goal given at registration instead of single / wait_standby.</summary>
    public NodeState? FirstGoal { get; set; }

    private FakeMonitor(IBusControl bus) => _bus = bus;

    /// <summary>A node the monitor knows but that has no keeper (e.g. an unreachable primary).</summary>
    public void AddPhantomNode(long nodeId, int port, string host = "127.0.0.1") =>
        _nodes[nodeId] = new NodeAddress(Formation, 0, nodeId, $"phantom_{nodeId}", host, port);

    public static async Task<FakeMonitor> StartAsync(Uri amqp)
    {
        FakeMonitor? self = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(amqp);
            cfg.ReceiveEndpoint("fake-monitor", e =>
            {
                e.Handler<RegisterNode>(ctx => self!.OnRegisterAsync(ctx));
                e.Handler<ReportNodeState>(ctx => self!.OnReportAsync(ctx));
                e.Handler<SetCandidatePriority>(ctx => self!.OnSettingAsync(ctx, ctx.Message.Formation));
                e.Handler<SetReplicationQuorum>(ctx => self!.OnSettingAsync(ctx, ctx.Message.Formation));
                e.Handler<UpdateNodeMetadata>(ctx => self!.OnMetadataAsync(ctx));
            });
        });
        self = new FakeMonitor(bus);
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return self;
    }

    private async Task OnRegisterAsync(ConsumeContext<RegisterNode> ctx)
    {
        var m = ctx.Message;
        if (m.NodeName is { } name && name.StartsWith("reject", StringComparison.Ordinal))
        {
            await ctx.RespondAsync(new RegistrationRejected(m.Formation, m.Host, m.Port, $"node name \"{name}\" is already in use"));
            return;
        }
        var id = m.DesiredNodeId ?? Interlocked.Increment(ref _nextId);
        var address = new NodeAddress(m.Formation, 0, id, m.NodeName ?? $"node_{id}", m.Host, m.Port);
        _nodes[id] = address;
        var goal = FirstGoal ?? (_goals.IsEmpty ? NodeState.Single : NodeState.WaitStandby);
        if (goal == NodeState.Single) PrimaryNodeId = id;
        _goals[id] = goal;
        // As the monitor does: the first goal also goes to the keeper's goal queue, and that send declares the queue
        // (the keeper only consumes from it; docs/operations.md#broker-users).
        var endpoint = await _bus.GetSendEndpoint(new Uri($"queue:keeper-node-{id}"));
        await endpoint.Send(new AssignGoalState(Goal(id, null), Interlocked.Increment(ref _groupVersion), "test registers the node"));
        await ctx.RespondAsync(new NodeRegistered(address, goal, m.CandidatePriority, m.ReplicationQuorum));
    }

    private async Task OnReportAsync(ConsumeContext<ReportNodeState> ctx)
    {
        if (!Answering) return;
        var m = ctx.Message;
        _reports.AddOrUpdate(m.NodeId, m, (_, old) => old.Sequence > m.Sequence ? old : m);
        _history.GetOrAdd(m.NodeId, _ => new ConcurrentQueue<ReportNodeState>()).Enqueue(m);
        if (m.CurrentState == NodeState.Dropped && _goals.TryGetValue(m.NodeId, out var assigned) && assigned == NodeState.Dropped)
        {
            _removed[m.NodeId] = true;
            _goals.TryRemove(m.NodeId, out _);
        }
        if (_removed.ContainsKey(m.NodeId))
        {
            await ctx.RespondAsync(new NodeReportRejected(m.Formation, m.GroupId, m.NodeId, true, $"node {m.NodeId} is not registered in this group (it may have been removed)"));
            return;
        }
        if (!_goals.ContainsKey(m.NodeId)) return;
        var goal = Goal(m.NodeId, m.Sequence);
        if (goal.Lease is not null) LastLeaseReply[m.NodeId] = DateTime.UtcNow;
        await ctx.RespondAsync(goal);
    }

    private NodeGoal Goal(long nodeId, long? sequence)
    {
        var state = _goals[nodeId];
        var primary = PrimaryNodeId is { } p && p != nodeId && _nodes.TryGetValue(p, out var a) ? a : null;
        var lease = KeeperStates.IsWritable(state) && sequence is { } s ? new PrimaryLease(LeaseDuration, s) : null;
        var upstream = _fastForward.TryGetValue(nodeId, out var ff) && _nodes.TryGetValue(ff.Upstream, out var u) ? u : null;
        IReadOnlyList<long>? members = ListGroupNodes
            ? [.. _goals.Where(g => g.Value != NodeState.Dropped).Select(g => g.Key).Concat(ExtraGroupNodeIds).Distinct().Order()]
            : null;
        IReadOnlyList<string>? hosts = members is null ? null
            : [.. members.Select(id => _nodes.TryGetValue(id, out var n) ? n.Host : null).OfType<string>().Distinct().Order(StringComparer.Ordinal)];
        return new NodeGoal(Formation, 0, nodeId, state, 50, true, _syncNames.GetValueOrDefault(nodeId, ""), primary, lease, upstream, ff.TargetLsn,
            members, hosts);
    }

    private async Task OnSettingAsync<T>(ConsumeContext<T> ctx, string formation) where T : class
    {
        SettingRequests.Enqueue(ctx.Message);
        await ctx.RespondAsync(new OperatorCommandSucceeded(formation, $"{typeof(T).Name} taken"));
    }

    /// <summary>
    /// Like the monitor: a name starting with "taken" is refused; otherwise the node's address changes, so the other
    /// nodes' goals name it there from their next report on.
    /// </summary>
    private async Task OnMetadataAsync(ConsumeContext<UpdateNodeMetadata> ctx)
    {
        var m = ctx.Message;
        SettingRequests.Enqueue(m);
        if (m.Name is { } name && name.StartsWith("taken", StringComparison.Ordinal) || !_nodes.TryGetValue(m.NodeId, out var node))
        {
            await ctx.RespondAsync(new OperatorCommandRefused(m.Formation, $"cannot rename node {m.NodeId}: node 9 is already named \"{m.Name}\" in formation {m.Formation}"));
            return;
        }
        _nodes[m.NodeId] = node with { NodeName = m.Name ?? node.NodeName, Host = m.Host ?? node.Host, Port = m.Port ?? node.Port };
        await ctx.RespondAsync(new OperatorCommandSucceeded(m.Formation, $"node {m.NodeId} updated"));
    }

    /// <summary>Assigns a goal and pushes it to the keeper's queue at once.</summary>
    public async Task AssignAsync(long nodeId, NodeState state, string synchronousStandbyNames = "")
    {
        _goals[nodeId] = state;
        _syncNames[nodeId] = synchronousStandbyNames;
        var version = Interlocked.Increment(ref _groupVersion);
        var endpoint = await _bus.GetSendEndpoint(new Uri($"queue:keeper-node-{nodeId}"));
        await endpoint.Send(new AssignGoalState(Goal(nodeId, null), version, $"test assigns {KeeperStates.Name(state)}"));
    }

    /// <summary>Assigns a goal and waits until the node reports it reached (the report that says so).</summary>
    public async Task<ReportNodeState> ReachAsync(long nodeId, NodeState state, string synchronousStandbyNames = "")
    {
        await AssignAsync(nodeId, state, synchronousStandbyNames);
        return await WaitForStateAsync(nodeId, state);
    }

    /// <summary>fast_forward: fetch WAL from <paramref name="upstream"/> up to <paramref name="targetLsn"/>.</summary>
    public Task FastForwardAsync(long nodeId, long upstream, ulong targetLsn)
    {
        _fastForward[nodeId] = (upstream, targetLsn);
        return AssignAsync(nodeId, NodeState.FastForward);
    }

    /// <summary>Sends an AssignGoalState with an explicit (possibly stale) group version.</summary>
    public async Task PushAsync(long nodeId, NodeState state, long groupVersion)
    {
        var endpoint = await _bus.GetSendEndpoint(new Uri($"queue:keeper-node-{nodeId}"));
        var goal = Goal(nodeId, null) with { GoalState = state };
        await endpoint.Send(new AssignGoalState(goal, groupVersion, "explicit push"));
    }

    public ReportNodeState? LastReport(long nodeId) => _reports.GetValueOrDefault(nodeId);
    /// <summary>Every report of <paramref name="nodeId"/> in arrival order.</summary>
    public IReadOnlyList<ReportNodeState> Reports(long nodeId) => _history.TryGetValue(nodeId, out var q) ? q.ToList() : [];
    public IReadOnlyCollection<long> NodeIds => _nodes.Keys.ToList();

    public async Task<ReportNodeState> WaitForStateAsync(long nodeId, NodeState state, TimeSpan? timeout = null, long afterSequence = 0) =>
        await Eventually.ValueAsync(() => Task.FromResult(LastReport(nodeId) is { } r && r.CurrentState == state && r.Sequence > afterSequence ? r : null),
            $"node {nodeId} to report {KeeperStates.Name(state)} (last: {LastReport(nodeId)?.CurrentState})", timeout ?? TimeSpan.FromSeconds(120));

    public async ValueTask DisposeAsync() => await _bus.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
}

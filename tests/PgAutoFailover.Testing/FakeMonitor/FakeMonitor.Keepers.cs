using System.Collections.Concurrent;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;
using RabbitMQ.Client;

namespace PgAutoFailover.Testing;

/// <summary>
/// The keepers' side: answers RegisterNode and ReportNodeState with goals the test scripts, and pushes AssignGoalState
/// to each keeper's goal queue, declared as the monitor declares it (KeeperGoalQueue). It can stop answering reports (a monitor that is down) without touching the keepers.
/// Like the real monitor, it removes a node that reports dropped when told to drop, and answers its later reports
/// with "node unknown". Its nodes all belong to group 0 of formation <see cref="Formation"/>.
/// </summary>
public sealed partial class FakeMonitor
{
    private readonly BusOptions _busOptions;
    private readonly SemaphoreSlim _goalDeclare = new(1, 1);
    private IConnection? _goalConnection;
    private readonly ConcurrentDictionary<long, NodeAddress> _nodes = new();
    private readonly ConcurrentDictionary<long, NodeState> _goals = new();
    private readonly ConcurrentDictionary<long, string> _syncNames = new();
    private readonly ConcurrentDictionary<long, (long Upstream, ulong TargetLsn)> _fastForward = new();
    private readonly ConcurrentDictionary<long, ReportNodeState> _reports = new();
    private readonly ConcurrentDictionary<long, ConcurrentQueue<ReportNodeState>> _history = new();
    private readonly ConcurrentDictionary<long, bool> _removed = new();
    private long _nextId;
    private long _groupVersion;

    /// <summary>The formation of the keepers' nodes.</summary>
    public const string Formation = "test";
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(4);
    /// <summary>False: reports go unanswered, as when the monitor is down.</summary>
    public volatile bool Answering = true;
    public long? PrimaryNodeId { get; set; }
    /// <summary>UTC moment of the last reply that carried a lease, per node.</summary>
    public ConcurrentDictionary<long, DateTime> LastLeaseReply { get; } = new();

    /// <summary>
    /// Whether goals carry <see cref="NodeGoal.GroupNodeIds"/> (the nodes with a goal other than dropped, plus
    /// <see cref="ExtraGroupNodeIds"/>) and their hosts; false plays a monitor older than the fields (null).
    /// </summary>
    public volatile bool ListGroupNodes;
    /// <summary>Ids listed as group members beside the registered nodes.</summary>
    public long[] ExtraGroupNodeIds { get; set; } = [];

    /// <summary>Goal given at registration instead of single / wait_standby.</summary>
    public NodeState? FirstGoal { get; set; }

    /// <summary>A node the monitor knows but that has no keeper (e.g. an unreachable primary).</summary>
    public void AddPhantomNode(long nodeId, int port, string host = "127.0.0.1") =>
        _nodes[nodeId] = new NodeAddress(Formation, 0, nodeId, $"phantom_{nodeId}", host, port);

    private void ConfigureKeeperSide(IReceiveEndpointConfigurator endpoint)
    {
        endpoint.Handler<RegisterNode>(OnRegisterAsync);
        endpoint.Handler<ReportNodeState>(OnReportAsync);
    }

    private async Task OnRegisterAsync(ConsumeContext<RegisterNode> ctx)
    {
        var m = ctx.Message;
        Received.Enqueue(m);
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
        // As the monitor does: the first goal also goes to the keeper's goal queue, declared by the sender
        // (the keeper only consumes from it; docs/operations.md#broker-users).
        var endpoint = await GoalEndpointAsync(id);
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

    /// <summary>The states in which a node may take writes (docs/states.md#node-states): their goals carry a lease.</summary>
    private static bool TakesWrites(NodeState state) => state is NodeState.Single or NodeState.WaitPrimary or NodeState.Primary
        or NodeState.JoinPrimary or NodeState.ApplySettings;

    private NodeGoal Goal(long nodeId, long? sequence)
    {
        var state = _goals[nodeId];
        var primary = PrimaryNodeId is { } p && p != nodeId && _nodes.TryGetValue(p, out var a) ? a : null;
        var lease = TakesWrites(state) && sequence is { } s ? new PrimaryLease(LeaseDuration, s) : null;
        var upstream = _fastForward.TryGetValue(nodeId, out var ff) && _nodes.TryGetValue(ff.Upstream, out var u) ? u : null;
        IReadOnlyList<long>? members = ListGroupNodes
            ? [.. _goals.Where(g => g.Value != NodeState.Dropped).Select(g => g.Key).Concat(ExtraGroupNodeIds).Distinct().Order()]
            : null;
        IReadOnlyList<string>? hosts = members is null ? null
            : [.. members.Select(id => _nodes.TryGetValue(id, out var n) ? n.Host : null).OfType<string>().Distinct().Order(StringComparer.Ordinal)];
        return new NodeGoal(Formation, 0, nodeId, state, 50, true, _syncNames.GetValueOrDefault(nodeId, ""), primary, lease, upstream, ff.TargetLsn,
            members, hosts);
    }

    /// <summary>Assigns a goal and pushes it to the keeper's queue at once.</summary>
    public async Task AssignAsync(long nodeId, NodeState state, string synchronousStandbyNames = "")
    {
        _goals[nodeId] = state;
        _syncNames[nodeId] = synchronousStandbyNames;
        var version = Interlocked.Increment(ref _groupVersion);
        var endpoint = await GoalEndpointAsync(nodeId);
        await endpoint.Send(new AssignGoalState(Goal(nodeId, null), version, $"test assigns {NodeStateNames.Of(state)}"));
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
        var endpoint = await GoalEndpointAsync(nodeId);
        var goal = Goal(nodeId, null) with { GoalState = state };
        await endpoint.Send(new AssignGoalState(goal, groupVersion, "explicit push"));
    }

    /// <summary>The keeper's goal queue declared (a quorum queue, as the monitor declares it) and its send endpoint.</summary>
    private async Task<ISendEndpoint> GoalEndpointAsync(long nodeId)
    {
        await _goalDeclare.WaitAsync();
        try
        {
            _goalConnection ??= await BrokerConnections.OpenAsync(_busOptions, "fake monitor goal queues", recover: true, CancellationToken.None);
            await KeeperGoalQueue.DeclareAsync(_goalConnection, nodeId, CancellationToken.None);
        }
        finally
        {
            _goalDeclare.Release();
        }
        return await _bus.GetSendEndpoint(KeeperGoalQueue.SendAddress(nodeId));
    }

    public ReportNodeState? LastReport(long nodeId) => _reports.GetValueOrDefault(nodeId);
    /// <summary>Every report of <paramref name="nodeId"/> in arrival order.</summary>
    public IReadOnlyList<ReportNodeState> Reports(long nodeId) => _history.TryGetValue(nodeId, out var q) ? q.ToList() : [];
    public IReadOnlyCollection<long> NodeIds => _nodes.Keys.ToList();

    public async Task<ReportNodeState> WaitForStateAsync(long nodeId, NodeState state, TimeSpan? timeout = null, long afterSequence = 0) =>
        await Eventually.ValueAsync(() => Task.FromResult(LastReport(nodeId) is { } r && r.CurrentState == state && r.Sequence > afterSequence ? r : null),
            $"node {nodeId} to report {NodeStateNames.Of(state)} (last: {LastReport(nodeId)?.CurrentState})", timeout ?? TimeSpan.FromSeconds(120));

    /// <summary>
    /// A rename or move of a keeper's node, as the monitor takes it: refused when another node of the formation has the
    /// name; otherwise the node's address changes, so the other nodes' goals name it there from their next report on.
    /// </summary>
    private bool TryUpdateRegisteredNode(UpdateNodeMetadata m, out string? refusal, out NodeAddress? updated)
    {
        (refusal, updated) = (null, null);
        if (m.Formation != Formation || !_nodes.TryGetValue(m.NodeId, out var node)) return false;
        if (m.Name is { } name && _nodes.Values.FirstOrDefault(n => n.NodeId != m.NodeId && n.NodeName == name) is { } holder)
        {
            refusal = $"cannot rename node {m.NodeId}: node {holder.NodeId} is already named \"{name}\" in formation {m.Formation}";
            return true;
        }
        updated = _nodes[m.NodeId] = node with { NodeName = m.Name ?? node.NodeName, Host = m.Host ?? node.Host, Port = m.Port ?? node.Port };
        return true;
    }
}

using System.Text;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests.Harness;

/// <summary>
/// A small world for property tests: the core as monitor, and simulated keepers + PostgreSQL that follow the
/// keeper transition table, stream WAL, acknowledge synchronous commits, hold and honour the lease exactly as
/// the options' safety argument assumes (fence at most keeper-check + fence-time after expiry), crash, get
/// partitioned and lose replies. The ground truth (who may accept writes, which LSN was acknowledged) lives
/// here, so the invariants check the real outcome, not the monitor's opinion.
/// </summary>
internal sealed class Simulation
{
    /// <summary>
    /// Worst case the options allow for a keeper (KeeperOptions, LeaseSafetyMargin): it may see a standby's reply up to
    /// one check period late and notice an expiry one period late (2 × 100 ms), then signal the fast shutdown that ends
    /// writes (100 ms allowed). The monitor's 500 ms margin must cover it.
    /// </summary>
    public static readonly TimeSpan KeeperFenceDelay = TimeSpan.FromMilliseconds(300);

    public sealed class SimNode(long id)
    {
        public long Id { get; } = id;
        public NodeState Reported { get; set; } = Init;
        public bool HostUp { get; set; } = true;          // keeper and PostgreSQL alive
        public bool MonitorLink { get; set; } = true;     // reports reach the monitor, probes reach PostgreSQL
        public bool PeerLink { get; set; } = true;        // replication with the other nodes
        public bool LoseReplies { get; set; }             // replies from the monitor are lost
        public bool PgRunning { get; set; }
        public ulong Lsn { get; set; }
        public int Generation { get; set; }               // WAL history (a promotion starts a new one)
        public long Sequence { get; set; }
        public NodeGoal? Goal { get; set; }
        public DateTimeOffset LeaseExpiry { get; set; } = DateTimeOffset.MinValue;
        public DateTimeOffset LastSyncReply { get; set; } = DateTimeOffset.MinValue;
        public ReportTrigger? LastReport { get; set; }
    }

    private readonly Random _rng;
    private readonly StringBuilder _trace = new();
    // What a store would hold: the durable events (liveness-only ones are kept elsewhere, and may be lost).
    private readonly List<Events.IGroupEvent> _durable = [];
    private readonly GroupSettings _settings;
    // Nodes whose last report the holder that took the group over may never have seen (it went to the dead one).
    private readonly HashSet<long> _unseenByHolder = [];
    private int _generations;
    private long _nextNodeId = 1;

    public Simulation(int seed, MonitorOptions? options = null, int numberSyncStandbys = 0)
    {
        _rng = new Random(seed);
        Seed = seed;
        Core = new MonitorCore(options);
        _settings = new GroupSettings("default", NumberSyncStandbys: numberSyncStandbys);
        State = GroupState.Empty(_settings, Cluster.Start);
        Now = Cluster.Start;
    }

    /// <summary>
    /// Whether walks include another monitor instance taking the group over (docs/architecture.md#groups-spread-over-monitors):
    /// the group rebuilt from its durable events alone, as a holder that died left it in the store.
    /// </summary>
    public bool Takeovers { get; set; }

    public int Seed { get; }
    public MonitorCore Core { get; }
    public MonitorOptions Options => Core.Options;
    public GroupState State { get; private set; }
    public DateTimeOffset Now { get; private set; }
    public Dictionary<long, SimNode> Nodes { get; } = [];
    /// <summary>Highest LSN acknowledged to a client under synchronous replication.</summary>
    public ulong AckedLsn { get; private set; }
    /// <summary>Set once an operator used --allow-data-loss: the no-loss invariant no longer applies.</summary>
    public bool DataLossAllowed { get; private set; }
    public int Steps { get; private set; }
    public List<string> Violations { get; } = [];
    public bool CheckKeeperEdges { get; set; } = true;

    /// <summary>
    /// Strict: any promotion lacking an acknowledged write is a violation (only meaningful with a single
    /// failure). Otherwise a violation needs a node that held the write, alive, reachable and reporting to the
    /// monitor, when the candidate was elected.
    /// </summary>
    public bool StrictDataLoss { get; set; } = true;

    /// <summary>Candidates elected while a reachable node held every acknowledged write (non-strict mode).</summary>
    private readonly Dictionary<long, long> _holderWhenElected = [];

    private SimNode? AvailableHolderOfAckedWrites(SimNode promoted) =>
        Nodes.Values.FirstOrDefault(x => x.Id != promoted.Id && x.HostUp && x.MonitorLink && x.Lsn >= AckedLsn
                                         && State.Find(x.Id) is { GoalState: not Dropped } seen
                                         && HealthPredicates.IsReporting(seen, Options, Now));

    public string Trace => _trace.ToString();

    private void Log(string line)
    {
        _trace.AppendLine($"{(Now - Cluster.Start).TotalMilliseconds,8:0} {line}");
        if (_trace.Length > 400_000) _trace.Remove(0, 200_000);
    }

    // ---- monitor side ---------------------------------------------------------------------------

    private Decision Decide(Trigger t)
    {
        var before = State;
        var d = Core.Decide(State, t, Now);
        if (d.Refusal is { Kind: RefusalKind.InternalError } r) Violate($"internal error for {t}: {r.Reason}");
        if (!d.Accepted) return d;
        foreach (var e in d.Events)
        {
            State = GroupProjection.Apply(State, e);
            if (!e.LivenessOnly) _durable.Add(e);
            if (e is Events.NodeRemoved removed) Log($"  removed node {removed.NodeId}: {removed.Reason} (trigger {t})");
        }
        foreach (var a in d.Assignments)
        {
            if (a.Goal is PreparePromotion or FastForward && Nodes.TryGetValue(a.NodeId, out var elected))
            {
                if (AvailableHolderOfAckedWrites(elected) is { } holder) _holderWhenElected[a.NodeId] = holder.Id;
                else _holderWhenElected.Remove(a.NodeId);
            }
            Log($"  assign node {a.NodeId} {a.PreviousGoal}->{a.Goal} [{a.Rule}] (reported {a.ReportedState})");
            if (CheckKeeperEdges && !States.KeeperCanReach(a.ReportedState, a.Goal))
                Violate($"{a.Rule} assigned {a.Goal} to node {a.NodeId} which reports {a.ReportedState}: no keeper edge");
        }
        CheckMonitorInvariants(before);
        return d;
    }

    private void CheckMonitorInvariants(GroupState before)
    {
        var writers = State.AllNodes.Values.Where(n => States.IsWritable(n.GoalState)).ToList();
        if (writers.Count > 1) Violate($"two writable goals: {string.Join(", ", writers.Select(w => $"{w.NodeId}:{w.GoalState}"))}");
        // Every node that just got a writable goal: no other node may still accept writes (ground truth).
        foreach (var n in State.AllNodes.Values)
        {
            var was = before.Find(n.NodeId);
            if (!States.IsWritable(n.GoalState) || (was is not null && States.IsWritable(was.GoalState))) continue;
            foreach (var other in Nodes.Values.Where(o => o.Id != n.NodeId && MayAcceptWrites(o)))
                Violate($"node {n.NodeId} got goal {n.GoalState} while node {other.Id} may still accept writes (lease until {other.LeaseExpiry:O})");
        }
    }

    private void Violate(string message)
    {
        Log("VIOLATION " + message);
        if (Violations.Count < 5) Violations.Add($"seed {Seed} step {Steps}: {message}");
    }

    // ---- ground truth ---------------------------------------------------------------------------

    private DateTimeOffset FenceAt(SimNode n)
    {
        var alive = n.LeaseExpiry > n.LastSyncReply + Options.PrimaryLease ? n.LeaseExpiry : n.LastSyncReply + Options.PrimaryLease;
        return alive + KeeperFenceDelay;
    }

    public bool MayAcceptWrites(SimNode n) =>
        n.HostUp && n.PgRunning && States.IsWritable(n.Reported) && Now < FenceAt(n);

    private SimNode? Find(NodeAddress? a) => a is not null && Nodes.TryGetValue(a.NodeId, out var n) ? n : null;

    private bool Connected(SimNode a, SimNode b) => a.HostUp && b.HostUp && a.PeerLink && b.PeerLink;

    private static bool Streams(NodeState s) => s is Secondary or CatchingUp or WaitMaintenance or PreparePromotion;

    /// <summary>Time passes: keepers fence on lease expiry, standbys stream, the writer writes and acknowledges.</summary>
    public void Advance(TimeSpan dt)
    {
        var end = Now + dt;
        while (Now < end)
        {
            var step = TimeSpan.FromMilliseconds(Math.Min(50, (end - Now).TotalMilliseconds));
            Now += step;
            Tick();
        }
    }

    private void Tick()
    {
        foreach (var n in Nodes.Values)
        {
            // The keeper fences at the latest moment the options' safety argument allows.
            if (n.HostUp && n.PgRunning && States.IsWritable(n.Reported) && Now >= FenceAt(n))
            {
                Log($"node {n.Id} fences itself (lease {n.LeaseExpiry:HH:mm:ss.fff}, last sync reply {n.LastSyncReply:HH:mm:ss.fff})");
                n.PgRunning = false;
                n.Reported = DemoteTimeout;
            }
        }

        foreach (var s in Nodes.Values)
        {
            if (!s.HostUp || !s.PgRunning || !Streams(s.Reported)) continue;
            if (Find(s.Goal?.Primary) is not { } u || !Connected(s, u) || !u.PgRunning || s.Generation != u.Generation) continue;
            if (_rng.NextDouble() < 0.8) s.Lsn = Math.Max(s.Lsn, u.Lsn);
            if (u.Goal?.SynchronousStandbyNames is { Length: > 0 } ssn && ssn.Contains($"_{s.Id})") | ssn.Contains($"_{s.Id},"))
                u.LastSyncReply = Now;
        }

        foreach (var w in Nodes.Values.Where(MayAcceptWrites).ToList())
        {
            if (_rng.NextDouble() < 0.5) w.Lsn += (ulong)_rng.Next(1, 64) * 1024;
            if (w.Reported == Primary && w.Goal?.SynchronousStandbyNames is { Length: > 0 } ssn)
            {
                var k = int.Parse(ssn.Split(' ')[1]);
                var acks = Nodes.Values
                    .Where(s => s.Id != w.Id && s.HostUp && s.PgRunning && Streams(s.Reported) && s.Generation == w.Generation
                                && Find(s.Goal?.Primary) == w && Connected(s, w)
                                && (ssn.Contains($"_{s.Id})") || ssn.Contains($"_{s.Id},")))
                    .Select(s => s.Lsn).OrderDescending().ToList();
                if (acks.Count >= k && acks[k - 1] > AckedLsn)
                    AckedLsn = acks[k - 1];
            }
        }
    }

    // ---- keeper side ----------------------------------------------------------------------------

    public void Register()
    {
        if (Nodes.Count(n => State.Find(n.Key) is not null) >= 5) return;
        var id = _nextNodeId;
        var d = Decide(new RegisterTrigger(id, null, "10.0.0." + id, 5432, "postgres", null,
            _rng.Next(4) == 0 ? 0 : 50, _rng.Next(5) != 0, Init));
        Log($"register node {id}: {(d.Accepted ? "ok" : d.Refusal!.Reason)}");
        if (!d.Accepted) return;
        _nextNodeId++;
        Nodes[id] = new SimNode(id);
    }

    /// <summary>One keeper cycle: report, learn the goal and lease, run one transition.</summary>
    public void KeeperStep(SimNode n)
    {
        if (!n.HostUp || State.Find(n.Id) is null && n.Reported != Dropped) return;
        if (!n.MonitorLink) return;
        var streaming = Nodes.Values.Any(s => s.Id != n.Id && s.HostUp && s.PgRunning && Streams(s.Reported)
                                              && Find(s.Goal?.Primary) == n && Connected(s, n) && s.Generation == n.Generation);
        var repState = States.IsWritable(n.Reported) && n.PgRunning && streaming ? "quorum" : "";
        var report = new ReportTrigger(n.Id, n.Reported, n.PgRunning, n.Generation + 1, n.Lsn, repState, ++n.Sequence);
        var sentAt = Now;
        var d = Decide(report);
        n.LastReport = report;
        _unseenByHolder.Remove(n.Id);
        if (!d.Accepted || n.LoseReplies) return;
        if (State.Find(n.Id) is null) { n.Goal = null; return; }
        var goal = MonitorCore.GoalFor(State, n.Id, d)!;
        n.Goal = goal;
        if (goal.Lease is { } lease) n.LeaseExpiry = sentAt + lease.Duration;

        // Ensure current state (docs/states.md#keeper-transitions), also before a transition: PostgreSQL runs in the states that need
        // it; a writer restarts only with a lease and while still assigned a writable goal.
        if (Cluster.RunsPostgres(n.Reported) && !n.PgRunning && n.Reported is not (Init or WaitStandby or JoinSecondary))
        {
            if (!States.IsWritable(n.Reported) || (goal.Lease is not null && goal.GoalState == n.Reported)) n.PgRunning = true;
        }
        if (goal.GoalState != n.Reported && States.KeeperCanReach(n.Reported, goal.GoalState) && _rng.NextDouble() < 0.9)
            Transition(n, goal);
    }

    private void Transition(SimNode n, NodeGoal goal)
    {
        var to = goal.GoalState;
        var upstream = Find(goal.Primary);
        bool UpstreamOk() => upstream is not null && Connected(n, upstream) && upstream.PgRunning;

        switch (to)
        {
            case CatchingUp or Secondary or JoinSecondary when n.Reported is not CatchingUp || to != Secondary:
                if (to != JoinSecondary)
                {
                    if (!UpstreamOk()) return;
                    n.Generation = upstream!.Generation;
                    // Base backup, rewind or follow: the node now holds the upstream's history (up to its LSN).
                    n.Lsn = upstream.Lsn;
                    n.PgRunning = true;
                }
                else n.PgRunning = false; // K74 checkpoint and stop
                break;
            case Secondary:
                break;
            case FastForward:
                if (Find(goal.UpstreamNode) is not { } source || !Connected(n, source) || !source.PgRunning || source.Lsn < goal.TargetLsn) return;
                n.Lsn = Math.Max(n.Lsn, goal.TargetLsn);
                break;
            case NodeState.Single or WaitPrimary or Primary or ApplySettings or JoinPrimary:
                if (goal.Lease is null) return; // a keeper never (re)starts a writer without a lease
                if (!States.IsWritable(n.Reported))
                {
                    if (n.Reported == Init)
                    {
                        // initdb: a new data set (REG-5 only lets this happen in a group left empty by the operator).
                        n.Lsn = 0x1000000; n.Generation = ++_generations; AckedLsn = 0;
                    }
                    else if (n.Reported is not (StopReplication or Demoted or DemoteTimeout or Draining))
                        n.Generation = ++_generations; // promotion of a standby
                    if (!DataLossAllowed && n.Lsn < AckedLsn && (StrictDataLoss || _holderWhenElected.ContainsKey(n.Id)))
                        Violate($"node {n.Id} takes writes at LSN {n.Lsn:X} but LSN {AckedLsn:X} was acknowledged" +
                                (StrictDataLoss ? "" : $" and node {_holderWhenElected[n.Id]} had it when {n.Id} was elected"));
                    Log($"node {n.Id} becomes a writer in {to} at {n.Lsn:X} (acked {AckedLsn:X})");
                }
                n.PgRunning = true;
                break;
            case StopReplication:
                n.Generation = ++_generations; // promoted, read-only
                n.PgRunning = true;
                break;
            case ReportLsn when n.Reported == Init:
                // K5 InitFromStandby: base backup from the most advanced standby in report_lsn.
                var backupSource = Nodes.Values.Where(o => o.Id != n.Id && o.Reported == ReportLsn && o.PgRunning && Connected(n, o))
                    .OrderByDescending(o => o.Lsn).FirstOrDefault();
                if (backupSource is null) return;
                n.Lsn = backupSource.Lsn; n.Generation = backupSource.Generation; n.PgRunning = true;
                break;
            case ReportLsn:
                n.PgRunning = true;
                break;
            case Draining or DemoteTimeout or Demoted or PrepareMaintenance or Dropped:
                n.PgRunning = false;
                break;
            case Maintenance when n.Reported is PrepareMaintenance or Primary:
                n.PgRunning = false;
                break;
        }
        Log($"node {n.Id} {n.Reported} -> {to}");
        n.Reported = to;
    }

    // ---- faults and operator ----------------------------------------------------------------------

    public SimNode? RandomNode() => Nodes.Count == 0 ? null : Nodes.Values.ElementAt(_rng.Next(Nodes.Count));

    public void Probe(SimNode n) =>
        Decide(new ProbeTrigger(n.Id, n.HostUp && n.MonitorLink && n.PgRunning, "timeout"));

    public void Fault()
    {
        if (RandomNode() is not { } n) return;
        switch (_rng.Next(6))
        {
            case 0: n.HostUp = !n.HostUp; if (!n.HostUp) n.PgRunning = false; Log($"node {n.Id} host {(n.HostUp ? "up" : "CRASH")}"); break;
            case 1: n.MonitorLink = !n.MonitorLink; Log($"node {n.Id} monitor link {n.MonitorLink}"); break;
            case 2: n.PeerLink = !n.PeerLink; Log($"node {n.Id} peer link {n.PeerLink}"); break;
            case 3: n.LoseReplies = !n.LoseReplies; Log($"node {n.Id} lose replies {n.LoseReplies}"); break;
            default: break;
        }
    }

    public void HealAll()
    {
        foreach (var n in Nodes.Values) { n.HostUp = true; n.MonitorLink = true; n.PeerLink = true; n.LoseReplies = false; }
        Log("heal all");
    }

    public void ReplayOldReport()
    {
        if (RandomNode() is not { LastReport: { } old } n) return;
        // Redelivered to the instance that took the group over, the report its dead holder took is new to it.
        if (_unseenByHolder.Contains(n.Id)) return;
        var before = State;
        var d = Core.Decide(State, old, Now);
        if (d.Accepted) Violate($"a duplicate report of node {n.Id} was accepted");
        if (!ReferenceEquals(before, State)) Violate("a refused report changed the state");
    }

    public void OperatorCommand(bool allowDataLoss)
    {
        var ids = State.AllNodes.Keys.ToList();
        long Pick() => ids.Count == 0 ? 99 : _rng.Next(10) == 0 ? 99 : ids[_rng.Next(ids.Count)];
        Trigger t = _rng.Next(12) switch
        {
            0 => new FailoverCommand(AllowDataLoss: allowDataLoss && _rng.Next(3) == 0),
            1 => new PromotionCommand(Pick()),
            2 or 3 => new EnableMaintenanceCommand(Pick(), AllowFailover: _rng.Next(4) != 0),
            4 or 5 => new DisableMaintenanceCommand(Pick()),
            6 => new SetCandidatePriorityCommand(Pick(), _rng.Next(3) switch { 0 => 0, 1 => 50, _ => 100 }),
            7 => new SetReplicationQuorumCommand(Pick(), _rng.Next(2) == 0),
            8 => new SetNumberSyncStandbysCommand(_rng.Next(3)),
            9 => new DropNodeCommand(Pick(), Force: _rng.Next(4) == 0),
            // Renames (sometimes to a taken name) and moves: identity changes must not disturb any invariant.
            10 => new UpdateNodeMetadataCommand(Pick(), Name: _rng.Next(3) == 0 ? $"node_{Pick()}" : null,
                Port: _rng.Next(2) == 0 ? 5400 + _rng.Next(8) : null),
            _ => new TimerTrigger(),
        };
        var d = Decide(t);
        Log($"operator {t}: {(d.Accepted ? "ok" : d.Refusal!.Reason)}");
        if (d.Accepted && t is FailoverCommand { AllowDataLoss: true } && d.Assignments.Count > 0) DataLossAllowed = true;
        if (d.Accepted && t is DropNodeCommand or SetReplicationQuorumCommand { ReplicationQuorum: false })
        {
            // The operator may drop, or take out of the quorum, the only standby copy of acknowledged writes:
            // from now on only what the remaining quorum standbys hold is guaranteed (safety rule 4 (docs/architecture.md#safety-rules) is about
            // the quorum the operator configured). If the writer then fails too, that is a second failure.
            var kept = Nodes.Values.Where(x => State.Find(x.Id) is { GoalState: not Dropped, ReplicationQuorum: true }
                                               && !States.IsPrimaryBelonging(x.Reported) && x.Reported != Demoted)
                .Select(x => x.Lsn).DefaultIfEmpty(0UL).Max();
            AckedLsn = Math.Min(AckedLsn, kept);
        }
        if (d.Accepted && t is DropNodeCommand { Force: true } drop && State.Find(drop.NodeId) is null && Nodes.TryGetValue(drop.NodeId, out var gone))
        {
            gone.HostUp = false; // a forcibly removed node is decommissioned
            gone.PgRunning = false;
        }
    }

    // ---- the walk ---------------------------------------------------------------------------------

    public void RandomStep(bool faults, bool operators, bool allowDataLoss)
    {
        Steps++;
        if (Takeovers && _rng.Next(40) == 0) Takeover();
        var roll = _rng.Next(100);
        if (roll < 3 || Nodes.Count == 0) Register();
        else if (roll < 55) { if (RandomNode() is { } n) KeeperStep(n); }
        else if (roll < 70) { if (RandomNode() is { } n) Probe(n); }
        else if (roll < 85) Advance(TimeSpan.FromMilliseconds(_rng.Next(20, 400)));
        else if (roll < 90) { if (faults) Fault(); }
        else if (roll < 94) { if (operators) OperatorCommand(allowDataLoss); }
        else if (roll < 97) Decide(new TimerTrigger());
        else ReplayOldReport();
        CheckWriters();
    }

    /// <summary>Another instance takes the group over: what it reads from the store, with its own start kept.</summary>
    private void Takeover()
    {
        var stored = _durable.Aggregate(GroupState.Empty(_settings, Cluster.Start), GroupProjection.Apply);
        State = stored.ReloadedWhileRunning(Now, Options, State.MonitorStartedAt);
        _unseenByHolder.UnionWith(Nodes.Keys);
        Log("  monitor takeover: the group read again from its durable events");
    }

    private void CheckWriters()
    {
        var writers = Nodes.Values.Where(MayAcceptWrites).ToList();
        if (writers.Count > 1)
            Violate($"two nodes accept writes: {string.Join(", ", writers.Select(w => $"{w.Id}:{w.Reported}"))}");
    }

    /// <summary>
    /// Everything heals; keepers cycle every 250 ms with no more commands. States that by design wait for an
    /// operator (every data-bearing node has candidate priority 0, the data is only on nodes in maintenance, or
    /// a lone node is frozen) get the operator's answer after 25 s: priorities set back to 50, maintenance
    /// disabled, the lone node promoted. Returns the rounds until the group is quiet and converged, or -1 (a dead end). A group
    /// the operator left without any data-bearing node (all in init/wait_standby) may stay as it is.
    /// </summary>
    public int SettleAfterHealing(int maxRounds = 600)
    {
        HealAll();
        var quiet = 0;
        for (var round = 0; round < maxRounds; round++)
        {
            if (round >= 100 && quiet == 0)
            {
                foreach (var x in State.Nodes.Where(x => x.CandidatePriority <= 0).ToList())
                    Decide(new SetCandidatePriorityCommand(x.NodeId, 50));
                foreach (var x in State.Nodes.Where(x => x.IsConverged(Maintenance) || x.IsConverged(PrepareMaintenance)).ToList())
                    Decide(new DisableMaintenanceCommand(x.NodeId));
                if (State.Nodes.Count == 1 && State.Nodes[0].ReportedState is JoinSecondary or PrepareMaintenance)
                    Decide(new PromotionCommand(State.Nodes[0].NodeId));
            }
            var before = State;
            foreach (var n in Nodes.Values.ToList())
            {
                Probe(n);
                KeeperStep(n);
                CheckWriters();
            }
            Decide(new TimerTrigger());
            Advance(TimeSpan.FromMilliseconds(250));
            var noData = State.Nodes.All(x => x.ReportedState is Init or WaitStandby);
            var converged = State.AllNodes.Values.All(x => x.ReportedState == x.GoalState || noData)
                            && State.AllNodes.Values.All(x => Nodes[x.NodeId].Reported == x.ReportedState);
            quiet = converged && SameGoals(before, State) ? quiet + 1 : 0;
            if (quiet >= 40) return round;
        }
        return -1;
    }

    private static bool SameGoals(GroupState a, GroupState b) =>
        a.AllNodes.Count == b.AllNodes.Count
        && a.AllNodes.All(kv => b.Find(kv.Key) is { } n && n.GoalState == kv.Value.GoalState && n.ReportedState == kv.Value.ReportedState);

    public string Describe() => string.Join("\n", State.AllNodes.Values.Select(n =>
        $"node {n.NodeId}: reported {n.ReportedState} goal {n.GoalState} prio {n.CandidatePriority} quorum {n.ReplicationQuorum} " +
        $"lsn {n.Lsn:X} health {n.Health} pg {n.PgIsRunning} | sim {Nodes[n.NodeId].Reported} pg {Nodes[n.NodeId].PgRunning} " +
        $"lsn {Nodes[n.NodeId].Lsn:X} gen {Nodes[n.NodeId].Generation}")) + $"\nnss {State.Settings.NumberSyncStandbys} acked {AckedLsn:X} failover {State.Failover}";
}

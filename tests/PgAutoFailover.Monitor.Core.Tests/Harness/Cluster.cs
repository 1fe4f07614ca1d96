using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests.Harness;

/// <summary>
/// Drives the core like the service would: folds accepted decisions into the state, keeps a clock and
/// per-node report sequences, and plays simple keepers (report the goal once reached).
/// </summary>
internal sealed class Cluster
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Dictionary<long, long> _sequence = [];

    public Cluster(MonitorOptions? options = null, GroupSettings? settings = null)
    {
        Core = new MonitorCore(options);
        State = GroupState.Empty(settings ?? new GroupSettings("default"), Start);
        Now = Start + Core.Options.StartupGracePeriod; // past the startup grace unless a test wants it
    }

    public MonitorCore Core { get; }
    public MonitorOptions Options => Core.Options;
    public GroupState State { get; set; }
    public DateTimeOffset Now { get; set; }
    public List<GoalAssignment> Assignments { get; } = [];
    /// <summary>Simulated LSN per node (what its keeper reports).</summary>
    public Dictionary<long, ulong> Lsn { get; } = [];
    /// <summary>Nodes whose keeper is dead (no reports, failing probes).</summary>
    public HashSet<long> Dead { get; } = [];

    public MonitorNode this[long id] => State[id];
    public NodeState Goal(long id) => State[id].GoalState;

    public Decision Do(Trigger trigger)
    {
        var d = Core.Decide(State, trigger, Now);
        if (d.Accepted)
        {
            foreach (var e in d.Events) State = GroupProjection.Apply(State, e);
            Assignments.AddRange(d.Assignments);
        }
        return d;
    }

    public Decision Register(long id, int priority = 50, bool quorum = true, NodeState initial = Init, string? name = null) =>
        Do(new RegisterTrigger(id, name, "localhost", 5400 + (int)id, "postgres", null, priority, quorum, initial));

    public Decision Report(long id, NodeState? state = null, bool pgIsRunning = true, ulong? lsn = null, int tli = 1, string rep = "sync")
    {
        var seq = _sequence[id] = _sequence.GetValueOrDefault(id) + 1;
        var reported = state ?? State[id].ReportedState;
        return Do(new ReportTrigger(id, reported, pgIsRunning, tli, lsn ?? Lsn.GetValueOrDefault(id, 0x1000000UL), rep, seq));
    }

    /// <summary>The keeper reaches its goal and reports it.</summary>
    public Decision Reach(long id) => Report(id, State[id].GoalState, pgIsRunning: RunsPostgres(State[id].GoalState));

    public static bool RunsPostgres(NodeState s) => s is not (Draining or DemoteTimeout or Demoted or Maintenance or PrepareMaintenance or Dropped);

    public Decision Probe(long id, bool ok) => Do(new ProbeTrigger(id, ok, ok ? null : "connection refused"));

    public void Advance(TimeSpan t) => Now += t;

    /// <summary>
    /// One keeper cycle for every live node (in id order): probe it OK, then reach its goal or re-report.
    /// Dead nodes fail their probe. Returns the number of assignments made.
    /// </summary>
    public int Round(TimeSpan? step = null)
    {
        var before = Assignments.Count;
        foreach (var id in State.AllNodes.Keys.ToList())
        {
            if (!State.AllNodes.ContainsKey(id)) continue;
            if (Dead.Contains(id)) { Probe(id, false); continue; }
            Probe(id, true);
            if (!State.AllNodes.ContainsKey(id)) continue;
            var n = State[id];
            if (n.GoalState != n.ReportedState && States.KeeperCanReach(n.ReportedState, n.GoalState)) Reach(id);
            else Report(id, pgIsRunning: RunsPostgres(n.ReportedState));
        }
        Advance(step ?? TimeSpan.FromMilliseconds(500));
        return Assignments.Count - before;
    }

    /// <summary>Runs rounds until nothing changes for a few rounds and every live node converged.</summary>
    public void Converge(int maxRounds = 200)
    {
        var quiet = 0;
        for (var i = 0; i < maxRounds && quiet < 16; i++) // 16 rounds = 8 s: longer than every timeout
        {
            var changed = Round() > 0;
            var converged = State.AllNodes.Values.Where(n => !Dead.Contains(n.NodeId)).All(n => n.ReportedState == n.GoalState);
            quiet = !changed && converged ? quiet + 1 : 0;
        }
    }

    /// <summary>A registered, converged group: node 1 primary, nodes 2..n secondaries.</summary>
    public static Cluster WithNodes(int n, MonitorOptions? options = null, GroupSettings? settings = null)
    {
        var c = new Cluster(options, settings);
        for (var id = 1; id <= n; id++)
        {
            var d = c.Register(id);
            Assert.True(d.Accepted, d.Refusal?.Reason);
            c.Converge();
        }
        return c;
    }

    /// <summary>Goal changes recorded for a node, in order.</summary>
    public IEnumerable<NodeState> GoalsOf(long id) => Assignments.Where(a => a.NodeId == id).Select(a => a.Goal);
}
